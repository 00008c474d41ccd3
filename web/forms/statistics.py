"""The statistics dashboard's forms: any crossing, and the yearly survey."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from stats.dimensions import DIMENSIONS
from stats.domains import public_domain
from stats.selectors import MAX_DIMENSIONS

from ..charts import MEASURE_LABELS, Labeller, dimension_label
from . import MnrForm

BY_FIELDS = ["by", *[f"by_{i}" for i in range(2, MAX_DIMENSIONS + 1)]]
FILTERS = [name for name, dimension in DIMENSIONS.items() if dimension.filterable]
SURVEY_YEARS = 6


def _code(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class CrossingForm(MnrForm):
    """Any crossing: a measure, one to four dimensions, a period, filters. The
    values go to the selectors as they are; their ValidationFailed lands on the
    field it names (``by``, ``period``, a filter)."""

    measure = forms.ChoiceField(label=gettext_lazy("Measure"), choices=list(MEASURE_LABELS.items()))
    period = forms.CharField(
        label=gettext_lazy("Period"),
        required=False,
        max_length=7,
        help_text=gettext_lazy("A year (2025), a quarter (2025-Q3) or a month (2025-07)."),
    )

    def __init__(self, *args: Any, labeller: Labeller, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dimensions = [(name, dimension_label(name)) for name in DIMENSIONS]
        for i, name in enumerate(BY_FIELDS, start=1):
            self.fields[name] = forms.CharField(
                label=_("Dimension %(number)s") % {"number": i},
                required=i == 1,
                widget=forms.Select(
                    choices=[("", _("None") if i > 1 else _("Choose a dimension")), *dimensions]
                ),
            )
        for name in FILTERS:
            values = public_domain(name)
            self.fields[name] = forms.CharField(
                label=dimension_label(name),
                required=False,
                widget=forms.Select(
                    choices=[
                        ("", _("All")),
                        *[(_code(v), labeller.label(name, v)) for v in values],
                    ]
                ),
            )
        # Field order: measure, dimensions, period, then the filters.
        self.order_fields(["measure", *BY_FIELDS, "period", *FILTERS])

    def by_value(self) -> str:
        return ",".join(self.cleaned_data[name] for name in BY_FIELDS if self.cleaned_data[name])

    def filters(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in FILTERS if self.cleaned_data[name]}


class SurveyForm(MnrForm):
    year = forms.CharField(label=gettext_lazy("Year"), max_length=4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        this_year = timezone.localdate().year
        years = [str(y) for y in range(this_year, this_year - SURVEY_YEARS, -1)]
        self.fields["year"].widget = forms.Select(choices=[(y, y) for y in years])
