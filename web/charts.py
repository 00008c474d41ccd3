"""Statistics releases as people read them: human labels for dimensions and
their values, and the geometry of a server-rendered SVG bar chart.

No rule lives here: the figures, what is suppressed and what a user may see all
come from stats.selectors / stats.reports. A suppressed cell is shown as
suppressed — never as 0, never as a bar. The charts are drawn with SVG
presentation attributes (x, y, width, height, fill), which the
Content-Security-Policy allows, unlike inline ``style``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pycountry
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from agencies.models import AgencyKind, Departement, Region, Sector
from cases.models import StepKind
from common.choices import ExploitationForm
from referral.models import ReferralStatus, Sex
from stats.dimensions import DIMENSIONS, world_regions

DIMENSION_LABELS = {
    "year": _("Year"),
    "quarter": _("Quarter"),
    "month": _("Month"),
    "exploitation_form": _("Form of exploitation"),
    "sex": _("Sex"),
    "age_group": _("Age group"),
    "minor": _("Minor"),
    "nationality": _("Nationality"),
    "world_region": _("World region"),
    "departement": _("Département"),
    "region": _("Region"),
    "referring_sector": _("Referring sector"),
    "outcome": _("Referral outcome"),
    "exploited_abroad_only": _("Exploited abroad only"),
    "complaint_filed": _("Complaint filed"),
    "residence_permit": _("Residence permit"),
    "step_delivered": _("Protection step delivered"),
}

MEASURE_LABELS = {
    "referrals": _("Referrals (victims identified)"),
    "cases": _("Cases (victims supported)"),
}

AGE_GROUP_LABELS = {"minor": _("Minor (under 18)"), "45+": _("45 and over")}
RESIDENCE_PERMIT_LABELS = {
    "none": _("None"),
    "requested": _("Requested"),
    "obtained": _("Obtained"),
}

# DSFR colours: blue France (bars), grey 50 (texts), grey 425 (suppressed notes).
BAR_COLOUR = "#000091"
TEXT_COLOUR = "#161616"
MUTED_COLOUR = "#666666"


def dimension_label(name: str) -> Any:
    """A dimension's name for people: this table, else the label the dimension
    declares (stats.dimensions), else its code."""
    if name in DIMENSION_LABELS:
        return DIMENSION_LABELS[name]
    declared = DIMENSIONS.get(name)
    return getattr(declared, "label", None) or name


class Labeller:
    """Labels of dimension values in the request's language; the names of
    départements and regions are read once, when a release needs them."""

    def __init__(self) -> None:
        self._departements: dict[str, str] | None = None
        self._regions: dict[str, str] | None = None

    def departements(self) -> dict[str, str]:
        if self._departements is None:
            self._departements = dict(Departement.objects.values_list("code", "name"))
        return self._departements

    def regions(self) -> dict[str, str]:
        if self._regions is None:
            self._regions = dict(Region.objects.values_list("code", "name"))
        return self._regions

    def label(self, name: str, value: Any) -> str:
        if value == "*":
            return str(_("All"))
        if value is None or value == "unknown":
            return str(_("Unknown"))
        if isinstance(value, bool):
            return str(_("Yes") if value else _("No"))
        text = str(value)
        if name == "exploitation_form":
            return str(dict(ExploitationForm.choices).get(text, text))
        if name == "sex":
            return str(dict(Sex.choices).get(text, text))
        if name == "age_group":
            return str(AGE_GROUP_LABELS.get(text, text))
        if name == "outcome":
            return str(dict(ReferralStatus.choices).get(text, text))
        if name == "referring_sector":
            labels = {**dict(AgencyKind.choices), **dict(Sector.choices)}
            return str(labels.get(text, text))
        if name == "residence_permit":
            return str(RESIDENCE_PERMIT_LABELS.get(text, text))
        if name == "step_delivered":
            return str(_("None")) if text == "none" else str(dict(StepKind.choices).get(text, text))
        if name == "departement":
            found = self.departements().get(text)
            return f"{text} — {found}" if found else text
        if name == "region":
            return self.regions().get(text, text)
        if name == "world_region":
            names = world_regions()["regions"].get(text, {})
            language = (get_language() or "fr")[:2]
            return names.get(language) or names.get("en") or text
        if name == "nationality":
            country = pycountry.countries.get(alpha_2=text)
            return f"{text} — {country.name}" if country else text
        declared = DIMENSIONS.get(name)
        if declared is not None and text in declared.value_labels:
            return str(declared.value_labels[text])
        return text


@dataclass(frozen=True)
class Cell:
    labels: list[str]
    count: int | None
    suppressed: bool


@dataclass(frozen=True)
class Bar:
    label: str
    count: int | None
    suppressed: bool
    label_y: int
    bar_y: int
    width: int
    value_x: int
    value_y: int


@dataclass
class Chart:
    bars: list[Bar] = field(default_factory=list)
    width: int = 420
    height: int = 0
    bar_height: int = 18
    left: int = 0
    omitted: int = 0  # cells beyond the chart's limit (the table has them all)


@dataclass
class ReleaseView:
    """A protected release ready for a template: headings, cells, totals, chart."""

    key: str
    title: str
    dimensions: list[str]
    headings: list[str]
    cells: list[Cell]
    totals: list[Cell]
    chart: Chart
    threshold: int
    notes: list[str]
    suppressed_count: int

    @property
    def all_hidden(self) -> bool:
        """No figure of the grid reaches the threshold (nothing to draw)."""
        return all(c.suppressed for c in self.cells)


MAX_BARS = 60
ROW = 46
LABEL_CHARS = 56


def _chart(cells: list[Cell]) -> Chart:
    chart = Chart()
    shown = cells[:MAX_BARS]
    chart.omitted = len(cells) - len(shown)
    top = max((c.count for c in shown if c.count is not None), default=0)
    room = chart.width - 50  # space left for the value after the longest bar
    for i, cell in enumerate(shown):
        y = 4 + i * ROW
        label = " · ".join(cell.labels)
        if len(label) > LABEL_CHARS:
            label = label[: LABEL_CHARS - 1] + "…"
        width = 0
        if cell.count and top:
            width = max(2, round(cell.count / top * room))
        chart.bars.append(
            Bar(
                label=label,
                count=cell.count,
                suppressed=cell.suppressed,
                label_y=y + 14,
                bar_y=y + 20,
                width=width,
                value_x=width + 8,
                value_y=y + 34,
            )
        )
    chart.height = 8 + len(shown) * ROW
    return chart


def release_view(
    release: dict[str, Any], *, key: str, title: str, labeller: Labeller
) -> ReleaseView:
    names = list(release["dimensions"])
    cells = [
        Cell(
            labels=[labeller.label(name, row[name]) for name in names],
            count=row["count"],
            suppressed=row["suppressed"],
        )
        for row in release["rows"]
    ]
    totals = [
        Cell(
            labels=[labeller.label(name, row[name]) for name in names],
            count=row["count"],
            suppressed=row["suppressed"],
        )
        for row in release["totals"]
    ]
    multi = [str(dimension_label(n)) for n in names if DIMENSIONS[n].multi_valued]
    # stats.selectors puts the several-categories note first, naming dimension
    # codes; a person reads it with the dimensions' names.
    notes = list(release["notes"])
    if multi:
        notes[0] = str(
            _(
                "%(dimensions)s: a person may count in several categories; totals count each person once."
            )
            % {"dimensions": ", ".join(multi)}
        )
    return ReleaseView(
        key=key,
        title=title,
        dimensions=names,
        headings=[str(dimension_label(n)) for n in names],
        cells=cells,
        totals=totals,
        chart=_chart(cells),
        threshold=release["threshold"],
        notes=notes,
        suppressed_count=sum(1 for c in cells if c.suppressed),
    )
