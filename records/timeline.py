"""The case timeline (docs/architecture.md): the history of a case, its
referral and routings, its steps, its notes (metadata only), its transfers and
shares and the identification file's stages, merged into
one ordered list of readable events, in the request's language.

A constant number of queries: one per history table, plus the agencies named.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from agencies.models import Agency
from agencies.system import SYSTEM_USERNAME
from cases.models import Case, CaseNote, CaseShare, ProtectionStep, Transfer
from identification.models import Identification
from referral.models import Referral, Routing


@dataclass(frozen=True)
class Event:
    at: datetime
    actor: str
    event: str
    text: str
    object_type: str
    object_id: int
    order: int = 0


def _actor(row: Any) -> str:
    user = row.history_user
    if user is None or user.username == SYSTEM_USERNAME:
        return _("MNR (automatic)")
    return user.username


def _rows(history_qs: Any) -> list[Any]:
    return list(history_qs.select_related("history_user").order_by("history_date", "history_id"))


def _changes(rows: Iterable[Any], fields: tuple[str, ...]) -> Iterator[tuple[Any, Any, dict]]:
    """(row, previous row or None, {field: (old, new)}) per historical row."""
    previous: dict[int, Any] = {}
    for row in rows:
        before = previous.get(row.id)
        changed = {}
        if before is not None:
            for name in fields:
                old, new = getattr(before, name), getattr(row, name)
                if old != new:
                    changed[name] = (old, new)
        previous[row.id] = row
        yield row, before, changed


def build_timeline(case: Case) -> list[Event]:
    referral_id = case.referral_id
    events: list[Event] = []
    case_rows = _rows(Case.history.filter(id=case.pk))
    referral_rows = _rows(Referral.history.filter(id=referral_id))
    routing_rows = _rows(Routing.history.filter(referral_id=referral_id))
    step_rows = _rows(ProtectionStep.history.filter(case_id=case.pk))
    transfer_rows = _rows(Transfer.history.filter(case_id=case.pk))
    share_rows = _rows(CaseShare.history.filter(case_id=case.pk))
    # Identification: its decisions and the association's requests, no content.
    file_rows = _rows(Identification.history.filter(referral_id=referral_id))
    notes = list(
        CaseNote.objects.filter(case=case)
        .select_related("author")
        .only("pk", "created_at", "author__username")
    )
    agency_ids = {r.association_id for r in routing_rows} | {r.association_id for r in case_rows}
    agency_ids |= {r.to_association_id for r in transfer_rows}
    agency_ids |= {r.grantee_agency_id for r in share_rows}
    names = dict(Agency.objects.filter(pk__in=agency_ids).values_list("pk", "name"))

    def add(row: Any, event: str, text: str, object_type: str, order: int = 0) -> None:
        events.append(Event(row.history_date, _actor(row), event, text, object_type, row.id, order))

    for row, before, changed in _changes(referral_rows, ("status", "crip_notified_at")):
        if before is None:
            add(
                row,
                "referral_submitted",
                _("Referral %(ref)s submitted") % {"ref": row.reference},
                "referral",
            )
            continue
        if "crip_notified_at" in changed and row.crip_notified_at:
            add(row, "crip_notified", _("Child-protection unit (CRIP) notified"), "referral", 1)
        if "status" in changed:
            labels = {
                "routed": _("Referral routed"),
                "accepted": _("Referral accepted"),
                "escalated": _("Referral escalated to the coordination desk"),
                "withdrawn": _("Referral withdrawn by its author"),
            }
            status = changed["status"][1]
            add(row, f"referral_{status}", labels.get(status, status), "referral", 1)

    for row, before, changed in _changes(routing_rows, ("outcome",)):
        name = names.get(row.association_id, "?")
        if before is None:
            add(
                row,
                "routing_created",
                _("Routed to %(association)s") % {"association": name},
                "routing",
                2,
            )
            continue
        if "outcome" in changed:
            outcome = changed["outcome"][1]
            texts = {
                "accepted": _("%(association)s accepted the referral"),
                "declined": _("%(association)s declined the referral"),
                "expired": _("No answer from %(association)s in time: routing expired"),
                "cancelled": _("Routing to %(association)s cancelled"),
            }
            add(
                row,
                f"routing_{outcome}",
                texts.get(outcome, outcome) % {"association": name},
                "routing",
                2,
            )

    closure_labels = dict(Case.ClosureReason.choices)
    for row, before, changed in _changes(case_rows, ("status", "assigned_to_id", "association_id")):
        if before is None:
            add(
                row,
                "case_opened",
                _("Case opened by %(association)s")
                % {"association": names.get(row.association_id, "?")},
                "case",
                3,
            )
            continue
        if "association_id" in changed:
            add(
                row,
                "case_transferred",
                _("Case now with %(association)s")
                % {"association": names.get(row.association_id, "?")},
                "case",
                3,
            )
        if "status" in changed:
            if row.status == Case.Status.CLOSED:
                add(
                    row,
                    "case_closed",
                    _("Case closed: %(reason)s")
                    % {"reason": closure_labels.get(row.closure_reason, row.closure_reason)},
                    "case",
                    3,
                )
            else:
                add(row, "case_reopened", _("Case reopened"), "case", 3)
        if "assigned_to_id" in changed and "association_id" not in changed:
            add(row, "case_assigned", _("Caseworker assignment changed"), "case", 3)

    kinds = dict(ProtectionStep.Kind.choices)
    statuses = dict(ProtectionStep.Status.choices)
    for row, before, changed in _changes(step_rows, ("status", "due_date", "owner_id", "note")):
        kind = kinds.get(row.kind, row.kind)
        if before is None:
            add(row, "step_added", _("Step planned: %(kind)s") % {"kind": kind}, "step", 4)
            continue
        if "status" in changed:
            add(
                row,
                "step_status",
                _("%(kind)s: %(status)s")
                % {"kind": kind, "status": statuses.get(row.status, row.status)},
                "step",
                4,
            )
        if "due_date" in changed:
            add(row, "step_rescheduled", _("%(kind)s: new due date") % {"kind": kind}, "step", 4)
        if "owner_id" in changed:
            add(row, "step_owner", _("%(kind)s: new owner") % {"kind": kind}, "step", 4)
        if "note" in changed:
            add(row, "step_note", _("%(kind)s: note changed") % {"kind": kind}, "step", 4)

    for note in notes:
        events.append(
            Event(
                note.created_at,
                note.author.username,
                "note_added",
                _("Note added"),
                "note",
                note.pk,
                5,
            )
        )

    for row, before, changed in _changes(transfer_rows, ("status",)):
        name = names.get(row.to_association_id, "?")
        if before is None:
            add(
                row,
                "transfer_requested",
                _("Transfer to %(association)s requested") % {"association": name},
                "transfer",
                6,
            )
        elif "status" in changed:
            text = (
                _("Transfer to %(association)s accepted")
                if row.status == "accepted"
                else _("Transfer to %(association)s rejected")
            )
            add(row, f"transfer_{row.status}", text % {"association": name}, "transfer", 6)

    purposes = dict(CaseShare.Purpose.choices)
    ends = {
        CaseShare.End.REVOKED: _("Share with %(agency)s ended"),
        CaseShare.End.EXPIRED: _("Share with %(agency)s expired"),
        CaseShare.End.ACCESS_ENDED: _("Share with %(agency)s ended: the person's access ended"),
        CaseShare.End.CASE_MOVED: _("Share with %(agency)s ended by the transfer"),
    }
    for row, before, changed in _changes(share_rows, ("ended_at",)):
        agency = names.get(row.grantee_agency_id, "?")
        if before is None:
            add(
                row,
                "case_shared",
                _("Shared with a person of %(agency)s (%(purpose)s) until %(until)s")
                % {
                    "agency": agency,
                    "purpose": purposes.get(row.purpose, row.purpose),
                    "until": row.until.isoformat(),
                },
                "share",
                7,
            )
        elif "ended_at" in changed and row.ended_at:
            add(
                row,
                "share_ended",
                ends.get(row.end_reason, "%(agency)s") % {"agency": agency},
                "share",
                7,
            )

    statuses_id = dict(Identification.Status.choices)
    for row, before, changed in _changes(file_rows, ("status",)):
        if before is None:
            add(row, "identification_opened", _("Identification file opened"), "identification", 8)
        elif "status" in changed:
            add(
                row,
                f"identification_{row.status}",
                _("Identification: %(status)s")
                % {"status": statuses_id.get(row.status, row.status)},
                "identification",
                8,
            )

    return sorted(events, key=lambda e: (e.at, e.order, e.object_id))
