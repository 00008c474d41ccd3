"""What every statistics release shares, whichever adapter hands it out (the
API's ``format=csv`` and the web's CSV download, the API's JSON and the web's
dashboard): the CSV rendering and the access-log entry of the release."""

from __future__ import annotations

import csv
import io
from typing import Any

from agencies.models import User
from audit.models import AccessAction
from audit.services import access_log_write


def release_csv(release: dict[str, Any]) -> str:
    """One line per cell, then the totals (``*`` for a summed dimension); a
    figure under the threshold has an empty count and ``suppressed`` true."""
    out = io.StringIO()
    writer = csv.writer(out)
    columns = [*release["dimensions"], "count", "suppressed"]
    writer.writerow(columns)
    for row in [*release["rows"], *release["totals"]]:
        writer.writerow(
            [
                ""
                if row[c] is None
                else str(row[c]).lower()
                if isinstance(row[c], bool)
                else row[c]
                for c in columns
            ]
        )
    return out.getvalue()


def release_log(
    *,
    actor: User,
    measure: str,
    by: list[str],
    filters: dict[str, str],
    release: dict[str, Any],
) -> None:
    """The access-log entry of a table release (docs/audit.md: statistics exports)."""
    access_log_write(
        action=AccessAction.STATS_EXPORT,
        actor=actor,
        target_type="stats",
        target_id=measure,
        detail={
            "by": by,
            "period": release["period"],
            "filters": filters,
            "privacy": release["privacy"],
            "published_at": release["published_at"],
        },
    )


def report_log(*, actor: User, name: str, period: str | None) -> None:
    """The access-log entry of a named report (survey, uk-nrm)."""
    access_log_write(
        action=AccessAction.STATS_EXPORT,
        actor=actor,
        target_type="stats-report",
        target_id=name,
        detail={"period": period},
    )
