"""The GDPR access export of one person's record (docs/access-export.md), for the owning
association's manager. The format, ``mnr-access-export-2``, is documented key
by key in docs/access-export.md (and .fr.md).

One JSON document holds:

- the person, the referral (every routing with its explanation, the CRIP
  notified, the withdrawal) and the case (steps, notes, transfers with their
  decisions, shares) as they are now;
- their history: every historical row of those records (django-simple-history),
  with its date, type, author and the field values;
- the access-log entries about them: reads, list pages that showed them,
  exports, shared reads, refusals;
- the same person's other referrals and cases *this association holds*
  (possible duplicates: the blind index), found through the same access
  selectors as every read. A duplicate anyone else holds is not exported, and
  nothing tells that it exists.

Free text typed by people (narrative, notes, reasons, details) may name other
people: every value is wrapped as ``{"text", "review", "why"}``, and ``review``
lists the JSON paths to read before handing the export over.

A constant number of queries, whatever the length of the history and the
number of duplicates: one per model and per history table, one for the
people and one for the agencies named, one for the access log.

One module (~670 lines) because it is one document: its sections share the
free-text wrapping, the agency and people lookups and the bounded query plan
above; docs/access-export.md follows it section by section.
"""

from __future__ import annotations

import functools
import operator
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from agencies.models import Agency, Membership, User
from agencies.selectors import membership_of
from agencies.system import SYSTEM_USERNAME
from audit.models import AccessAction, AccessLog
from audit.services import access_log_write
from cases import selectors as case_selectors
from cases.models import (
    Case,
    CaseNote,
    CaseShare,
    CaseStatus,
    ClosureReason,
    ProtectionStep,
    ShareEnd,
    SharePart,
    SharePurpose,
    StepKind,
    StepStatus,
    Transfer,
    TransferStatus,
)
from common.choices import ExploitationForm
from common.errors import NotAllowed
from identification.models import (
    Decision,
    Evidence,
    EvidenceSection,
    Identification,
    NegativeReason,
    Outcome,
    Reconsideration,
    Stage,
    WithdrawalReason,
)
from identification.models import Status as IdentificationStatus
from referral import indicators
from referral import selectors as referral_selectors
from referral.models import (
    Need,
    PresumedVictim,
    Referral,
    ReferralStatus,
    Routing,
    RoutingOutcome,
    Sex,
)

FORMAT = "mnr-access-export-2"

# The history tables exported, under the name each row carries ("model").
HISTORY_MODELS: tuple[tuple[str, type[models.Model]], ...] = (
    ("referral", Referral),
    ("person", PresumedVictim),
    ("routing", Routing),
    ("case", Case),
    ("step", ProtectionStep),
    ("note", CaseNote),
    ("transfer", Transfer),
    ("share", CaseShare),
    ("identification", Identification),
    ("identification_decision", Decision),
    ("identification_evidence", Evidence),
    ("identification_reconsideration", Reconsideration),
)
# History tables reached through the identification file of a referral.
IDENTIFICATION_CHILDREN = (Decision, Evidence, Reconsideration)
HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}

# Free text typed by people: it may name someone else (a trafficker, a relative,
# a witness). Any other text field without choices that is not listed below as
# identity, code or reference counts as free text too, so a field added later
# is flagged for review by default.
FREE_TEXT: dict[type[models.Model], frozenset[str]] = {
    Referral: frozenset({"narrative", "exploitation_other_detail", "withdrawal_reason"}),
    Routing: frozenset({"reason"}),
    ProtectionStep: frozenset({"note"}),
    CaseNote: frozenset({"text"}),
    Transfer: frozenset({"reason", "decision_reason"}),
    CaseShare: frozenset({"purpose_detail"}),
    Decision: frozenset({"explanation"}),
    Evidence: frozenset({"text"}),
    Reconsideration: frozenset({"new_elements"}),
}
NOT_FREE_TEXT = frozenset(
    {
        "reference",
        "given_name",
        "family_name",
        "date_of_birth",
        "phone",
        "nationality",
        "exploitation_country",
        "indicator_list_version",
    }
)
# Left out of the history values: keyed hashes and retry keys (derived from
# identity, meaningless to a reader), counters of optimistic concurrency.
TECHNICAL: dict[type[models.Model], frozenset[str]] = {
    Referral: frozenset({"idempotency_key", "idempotency_fingerprint"}),
    PresumedVictim: frozenset({"blind_index"}),
    Case: frozenset({"version"}),
    ProtectionStep: frozenset({"version"}),
    Identification: frozenset({"version"}),
}

# Entries whose ``detail["refs"]`` names the records they concern.
REFS_ACTIONS = (AccessAction.REFERRAL_LIST, AccessAction.CASE_LIST, AccessAction.CASE_EXPORT)
LIST_ACTIONS = frozenset({AccessAction.REFERRAL_LIST, AccessAction.CASE_LIST})

GLOSSARY_CHOICES: dict[str, Any] = {
    "referral_status": ReferralStatus,
    "exploitation_form": ExploitationForm,
    "need": Need,
    "sex": Sex,
    "routing_outcome": RoutingOutcome,
    "case_status": CaseStatus,
    "closure_reason": ClosureReason,
    "step_kind": StepKind,
    "step_status": StepStatus,
    "transfer_status": TransferStatus,
    "share_purpose": SharePurpose,
    "share_part": SharePart,
    "share_end": ShareEnd,
    "access_action": AccessAction,
    "identification_status": IdentificationStatus,
    "identification_stage": Stage,
    "identification_outcome": Outcome,
    "identification_reason": NegativeReason,
    "identification_withdrawal": WithdrawalReason,
    "evidence_section": EvidenceSection,
}


class _Text(str):
    """Free text typed by a person: exported wrapped, and listed for review."""


class _Review(dict):
    """A block to check as a whole before handing over (a possible duplicate)."""


def _why_text() -> str:
    return _("free text may name other people; read before handing over")


def _finish(value: Any, path: str, review: list[str]) -> Any:
    """The plain JSON value, free text wrapped, paths to review collected."""
    if isinstance(value, _Text):
        text = str(value)
        if not text.strip():
            return {"text": text, "review": False}
        review.append(path)
        return {"text": text, "review": True, "why": _why_text()}
    if isinstance(value, _Review):
        review.append(path)
    if isinstance(value, dict):
        return {key: _finish(item, f"{path}.{key}", review) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finish(item, f"{path}[{i}]", review) for i, item in enumerate(value)]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _is_free_text(model: type[models.Model], field: models.Field) -> bool:
    if field.name in FREE_TEXT.get(model, ()):
        return True
    return (
        isinstance(field, models.CharField | models.TextField)
        and not field.choices
        and field.name not in NOT_FREE_TEXT
        and field.name not in TECHNICAL.get(model, ())
    )


def _by(rows: Iterable[Any], key: str) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


def _ensure_owning_manager(*, actor: User, case: Case) -> Membership:
    membership = membership_of(actor)
    if (
        membership is None
        or membership.role != Membership.Role.MANAGER
        or membership.agency_id != case.association_id
    ):
        raise NotAllowed()
    return membership


def _duplicate_referral_ids(*, actor: User, referral: Referral) -> list[int]:
    """The same person's other referrals (same blind index: names and date of
    birth) among those the actor may see, through the referrals' access selector."""
    blind = referral.person.blind_index
    if not blind:
        return []
    return list(
        referral_selectors.referral_list_visible_to(user=actor)
        .filter(person__blind_index=blind)
        .exclude(pk=referral.pk)
        .prefetch_related(None)
        .order_by("submitted_at", "pk")
        .values_list("pk", flat=True)
    )


def _refs_contain(ref: str) -> Q:
    if connection.features.supports_json_field_contains:
        return Q(detail__refs__contains=[ref])
    return Q(detail__refs__icontains=f'"{ref}"')  # a JSON list of quoted references


class _Export:
    """Loads the records of the given referrals in bulk, then presents each."""

    def __init__(self, *, actor: User, referral_ids: list[int]) -> None:
        self.actor = actor
        self.referral_ids = referral_ids
        self.referrals = {
            r.pk: r for r in Referral.objects.filter(pk__in=referral_ids).select_related("person")
        }
        # Only the cases the actor may see (the main one always: the view checked it).
        self.cases = {
            c.referral_id: c
            for c in case_selectors.case_list_visible_to(user=actor).filter(
                referral_id__in=referral_ids
            )
        }
        case_ids = [c.pk for c in self.cases.values()]
        self.case_referral = {c.pk: c.referral_id for c in self.cases.values()}
        self.routings = _by(
            Routing.objects.filter(referral_id__in=referral_ids).order_by("routed_at", "pk"),
            "referral_id",
        )
        self.steps = _by(
            ProtectionStep.objects.filter(case_id__in=case_ids).order_by("pk"), "case_id"
        )
        self.notes = _by(
            CaseNote.objects.filter(case_id__in=case_ids).order_by("created_at", "pk"), "case_id"
        )
        self.transfers = _by(
            Transfer.objects.filter(case_id__in=case_ids).order_by("requested_at", "pk"), "case_id"
        )
        self.shares = _by(
            CaseShare.objects.filter(case_id__in=case_ids).order_by("shared_at", "pk"), "case_id"
        )
        self.identifications = {
            i.referral_id: i for i in Identification.objects.filter(referral_id__in=referral_ids)
        }
        file_ids = [i.pk for i in self.identifications.values()]
        self.file_referral = {i.pk: i.referral_id for i in self.identifications.values()}
        self.decisions = _by(
            Decision.objects.filter(identification_id__in=file_ids).order_by("decided_at", "pk"),
            "identification_id",
        )
        self.evidence = _by(
            Evidence.objects.filter(identification_id__in=file_ids).order_by("added_at", "pk"),
            "identification_id",
        )
        self.reconsiderations = _by(
            Reconsideration.objects.filter(identification_id__in=file_ids).order_by(
                "requested_at", "pk"
            ),
            "identification_id",
        )
        self.history = self._load_history(case_ids, file_ids)
        self.usernames, self.agencies = self._load_names()
        self.refs = {r.reference: r.pk for r in self.referrals.values()}
        self.refs.update({c.reference: c.referral_id for c in self.cases.values()})
        self.case_refs = {c.pk: c.reference for c in self.cases.values()}
        self.log = self._load_access_log()

    # --- loading ------------------------------------------------------------------

    def _load_history(
        self, case_ids: list[int], file_ids: list[int]
    ) -> dict[int, list[tuple[str, Any]]]:
        """(model name, historical row) per referral, one query per history table."""
        scope = {
            Referral: Q(id__in=self.referral_ids),
            PresumedVictim: Q(referral_id__in=self.referral_ids),
            Routing: Q(referral_id__in=self.referral_ids),
            Case: Q(id__in=case_ids),
            ProtectionStep: Q(case_id__in=case_ids),
            CaseNote: Q(case_id__in=case_ids),
            Transfer: Q(case_id__in=case_ids),
            CaseShare: Q(case_id__in=case_ids),
            Identification: Q(referral_id__in=self.referral_ids),
            **{model: Q(identification_id__in=file_ids) for model in IDENTIFICATION_CHILDREN},
        }
        rows: dict[int, list[tuple[str, Any]]] = defaultdict(list)
        for name, model in HISTORY_MODELS:
            if model in (Case, ProtectionStep, CaseNote, Transfer, CaseShare) and not case_ids:
                continue
            if model in IDENTIFICATION_CHILDREN and not file_ids:
                continue
            for row in model.history.filter(scope[model]).order_by("history_date", "history_id"):
                if model is Referral:
                    referral_id = row.id
                elif model in (PresumedVictim, Routing, Identification):
                    referral_id = row.referral_id
                elif model in IDENTIFICATION_CHILDREN:
                    referral_id = self.file_referral[row.identification_id]
                elif model is Case:
                    referral_id = self.case_referral[row.id]
                else:
                    referral_id = self.case_referral[row.case_id]
                rows[referral_id].append((name, row))
        return rows

    def _objects(self) -> Iterable[tuple[type[models.Model], Any]]:
        """Every object and historical row exported, with its model."""
        for referral in self.referrals.values():
            yield Referral, referral
            yield PresumedVictim, referral.person
        for case in self.cases.values():
            yield Case, case
        for identification in self.identifications.values():
            yield Identification, identification
        for model, grouped in (
            (Decision, self.decisions),
            (Evidence, self.evidence),
            (Reconsideration, self.reconsiderations),
            (Routing, self.routings),
            (ProtectionStep, self.steps),
            (CaseNote, self.notes),
            (Transfer, self.transfers),
            (CaseShare, self.shares),
        ):
            for rows in grouped.values():
                for row in rows:
                    yield model, row
        models_by_name = dict(HISTORY_MODELS)
        for rows in self.history.values():
            for name, row in rows:
                yield models_by_name[name], row

    def _load_names(self) -> tuple[dict[int, str], dict[int, str]]:
        """The usernames and agency names the records point to (two queries)."""
        user_ids: set[int] = set()
        agency_ids: set[int] = set()
        for model, obj in self._objects():
            for f in model._meta.concrete_fields:
                if not f.is_relation:
                    continue
                value = getattr(obj, f.attname, None)
                if value is None:
                    continue
                if issubclass(f.related_model, User):
                    user_ids.add(value)
                elif issubclass(f.related_model, Agency):
                    agency_ids.add(value)
            user_id = getattr(obj, "history_user_id", None)
            if user_id is not None:
                user_ids.add(user_id)
        users = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))
        agencies = dict(Agency.objects.filter(pk__in=agency_ids).values_list("pk", "name"))
        return users, agencies

    def _load_access_log(self) -> dict[int, list[tuple[AccessLog, str]]]:
        """(entry, reference concerned) per referral: entries targeting a
        reference, and those whose detail refs name it (list pages, exports)."""
        if not self.referrals:
            return {}
        refs = sorted(self.refs)
        since = min(r.submitted_at for r in self.referrals.values())
        direct = Q(target_type__in=("referral", "case", "identification"), target_id__in=refs)
        listed = Q(action__in=REFS_ACTIONS, created_at__gte=since) & functools.reduce(
            operator.or_, (_refs_contain(ref) for ref in refs)
        )
        found: dict[int, list[tuple[AccessLog, str]]] = defaultdict(list)
        for entry in AccessLog.objects.filter(direct | listed).select_related("agency"):
            concerned = {entry.target_id} if entry.target_id in self.refs else set()
            refs_named = entry.detail.get("refs") if isinstance(entry.detail, dict) else None
            if isinstance(refs_named, list):
                concerned |= {ref for ref in refs_named if ref in self.refs}
            seen: set[int] = set()
            for ref in sorted(concerned):
                referral_id = self.refs[ref]
                if referral_id not in seen:
                    seen.add(referral_id)
                    found[referral_id].append((entry, ref))
        for entries in found.values():
            entries.sort(key=lambda pair: pair[0].pk)
        return found

    # --- presenting ---------------------------------------------------------------

    def user(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        username = self.usernames.get(user_id)
        return _("MNR (automatic)") if username == SYSTEM_USERNAME else username

    def agency(self, agency_id: int | None) -> str | None:
        return None if agency_id is None else self.agencies.get(agency_id)

    def record(self, referral_id: int) -> dict[str, Any]:
        referral = self.referrals[referral_id]
        case = self.cases.get(referral_id)
        return {
            "person": self.person(referral.person),
            "referral": self.referral(referral),
            "case": self.case(case) if case else None,
            "identification": self.identification(self.identifications.get(referral_id)),
            "history": self.history_rows(referral_id),
            "access_log": self.access_log(referral_id),
        }

    def person(self, p: PresumedVictim) -> dict[str, Any]:
        return {
            "given_name": p.given_name,
            "family_name": p.family_name,
            "date_of_birth": p.date_of_birth,
            "estimated_age": p.estimated_age,
            "age_years": p.age_years,
            "declared_minor": p.declared_minor,
            "presumed_minor": p.presumed_minor,
            "sex": p.sex,
            "nationality": p.nationality,
            "languages": p.languages,
            "phone": p.phone,
            "current_departement": p.current_departement_id,
        }

    def referral(self, r: Referral) -> dict[str, Any]:
        return {
            "reference": r.reference,
            "status": r.status,
            "submitted_at": r.submitted_at,
            "referrer": self.user(r.referring_user_id),
            "referring_agency": self.agency(r.referring_agency_id),
            "immediate_danger": r.immediate_danger,
            "exploitation_forms": r.exploitation_forms,
            "exploitation_other_detail": _Text(r.exploitation_other_detail),
            "exploitation_departement": r.exploitation_departement_id,
            "exploitation_country": r.exploitation_country,
            "indicators": r.indicators,
            "indicator_list_version": r.indicator_list_version,
            "needs": r.needs,
            "narrative": _Text(r.narrative),
            "consent_to_referral": r.consent_to_referral,
            "escalated_at": r.escalated_at,
            "accepted_at": r.accepted_at,
            "withdrawn_at": r.withdrawn_at,
            "withdrawal_reason": _Text(r.withdrawal_reason),
            "crip": {
                "agency": self.agency(r.crip_agency_id),
                "notified_at": r.crip_notified_at,
            },
            "pseudonymised_at": r.pseudonymised_at,
            "updated_at": r.updated_at,
            "routings": [self.routing(routing) for routing in self.routings.get(r.pk, [])],
        }

    def routing(self, r: Routing) -> dict[str, Any]:
        return {
            "id": r.pk,
            "association": self.agency(r.association_id),
            "routed_at": r.routed_at,
            "respond_by": r.respond_by,
            "outcome": r.outcome,
            "reason": _Text(r.reason),
            "responded_by": self.user(r.responded_by_id),
            "responded_at": r.responded_at,
            "assigned_by": self.user(r.assigned_by_id),
            "explanation": r.explanation,
        }

    def identification(self, i: Identification | None) -> dict[str, Any] | None:
        if i is None:
            return None
        return {
            "unit": self.agency(i.unit_id),
            "status": i.status,
            "stage": i.stage,
            "opened_at": i.opened_at,
            "decide_by": i.decide_by,
            "recovery_starts_on": i.recovery_starts_on,
            "recovery_ends_on": i.recovery_ends_on,
            "reconsider_until": i.reconsider_until,
            "decisions": [
                {
                    "stage": d.stage,
                    "outcome": d.outcome,
                    "reasons": d.reasons,
                    "explanation": _Text(d.explanation),
                    "reconsideration": d.reconsideration,
                    "decided_by": self.user(d.decided_by_id),
                    "decided_at": d.decided_at,
                }
                for d in self.decisions.get(i.pk, [])
            ],
            "evidence": [
                {
                    "id": e.pk,
                    "section": e.section,
                    "indicator": e.indicator,
                    "on_date": e.on_date,
                    "text": _Text(e.text),
                    "added_by": self.user(e.added_by_id),
                    "added_at": e.added_at,
                }
                for e in self.evidence.get(i.pk, [])
            ],
            "reconsiderations": [
                {
                    "stage": r.stage,
                    "new_elements": _Text(r.new_elements),
                    "requested_by": self.user(r.requested_by_id),
                    "requested_at": r.requested_at,
                }
                for r in self.reconsiderations.get(i.pk, [])
            ],
        }

    def case(self, c: Case) -> dict[str, Any]:
        return {
            "reference": c.reference,
            "association": self.agency(c.association_id),
            "assigned_to": self.user(c.assigned_to_id),
            "status": c.status,
            "opened_at": c.opened_at,
            "closed_at": c.closed_at,
            "closure_reason": c.closure_reason,
            "reopened_at": c.reopened_at,
            "pseudonymised_at": c.pseudonymised_at,
            "steps": [
                {
                    "id": s.pk,
                    "kind": s.kind,
                    "status": s.status,
                    "due_date": s.due_date,
                    "ends_on": s.ends_on,
                    "done_at": s.done_at,
                    "owner": self.user(s.owner_id),
                    "note": _Text(s.note),
                    "from_template": s.from_template,
                    "created_at": s.created_at,
                }
                for s in self.steps.get(c.pk, [])
            ],
            "notes": [
                {
                    "id": n.pk,
                    "created_at": n.created_at,
                    "author": self.user(n.author_id),
                    "text": _Text(n.text),
                }
                for n in self.notes.get(c.pk, [])
            ],
            "transfers": [
                {
                    "id": t.pk,
                    "from_association": self.agency(t.from_association_id),
                    "to_association": self.agency(t.to_association_id),
                    "status": t.status,
                    "reason": _Text(t.reason),
                    "requested_by": self.user(t.requested_by_id),
                    "requested_at": t.requested_at,
                    "decided_by": self.user(t.decided_by_id),
                    "decided_at": t.decided_at,
                    "decision_reason": _Text(t.decision_reason),
                }
                for t in self.transfers.get(c.pk, [])
            ],
            "shares": [
                {
                    "id": s.pk,
                    "grantee": self.user(s.grantee_id),
                    "grantee_agency": self.agency(s.grantee_agency_id),
                    "purpose": s.purpose,
                    "purpose_detail": _Text(s.purpose_detail),
                    "parts": s.parts,
                    "until": s.until,
                    "shared_by": self.user(s.shared_by_id),
                    "shared_at": s.shared_at,
                    "active": s.ended_at is None,
                    "ended_at": s.ended_at,
                    "ended_by": self.user(s.ended_by_id),
                    "end_reason": s.end_reason,
                }
                for s in self.shares.get(c.pk, [])
            ],
        }

    def _value(self, model: type[models.Model], f: models.Field, row: Any) -> Any:
        raw = getattr(row, f.attname)
        if f.is_relation:
            target = f.related_model
            if raw is None:
                return None
            if issubclass(target, User):
                return self.user(raw)
            if issubclass(target, Agency):
                return self.agency(raw)
            if target is Referral:
                referral = self.referrals.get(raw)
                return referral.reference if referral else raw
            if target is Case:
                return self.case_refs.get(raw, raw)
            return raw
        if _is_free_text(model, f):
            return _Text(raw or "")
        return raw

    def history_rows(self, referral_id: int) -> list[dict[str, Any]]:
        models_by_name = dict(HISTORY_MODELS)
        order = {name: i for i, (name, _model) in enumerate(HISTORY_MODELS)}
        rows = sorted(
            self.history.get(referral_id, []),
            key=lambda pair: (pair[1].history_date, order[pair[0]], pair[1].history_id),
        )
        previous: dict[tuple[str, int], dict[str, Any]] = {}
        out = []
        for name, row in rows:
            model = models_by_name[name]
            fields = [
                f
                for f in row.tracked_fields
                if f.name != "id" and f.name not in TECHNICAL.get(model, ())
            ]
            values = {f.name: self._value(model, f, row) for f in fields}
            before = previous.get((name, row.id))
            changed = (
                [key for key, value in values.items() if before.get(key) != value]
                if before is not None
                else []
            )
            previous[(name, row.id)] = values
            out.append(
                {
                    "model": name,
                    "object_id": row.id,
                    "history_id": row.history_id,
                    "date": row.history_date,
                    "type": HISTORY_TYPES.get(row.history_type, row.history_type),
                    "by": self.user(row.history_user_id),
                    "changed": changed,
                    "values": values,
                }
            )
        return out

    def access_log(self, referral_id: int) -> list[dict[str, Any]]:
        out = []
        for entry, ref in self.log.get(referral_id, []):
            item: dict[str, Any] = {
                "id": entry.pk,
                "at": entry.created_at,
                "action": entry.action,
                "actor": entry.actor_username,
                "agency": entry.agency.name if entry.agency else None,
                "target_type": entry.target_type,
                "target": ref,
            }
            detail = dict(entry.detail) if isinstance(entry.detail, dict) else {}
            # The other references of a list page or export are other records.
            detail.pop("refs", None)
            item["detail"] = detail
            item["hash"] = entry.hash
            out.append(item)
        return out

    def glossary(self) -> dict[str, dict[str, str]]:
        glossary = {
            name: {code: str(label) for code, label in choices.choices}
            for name, choices in GLOSSARY_CHOICES.items()
        }
        glossary["history_model"] = {
            name: str(model._meta.verbose_name) for name, model in HISTORY_MODELS
        }
        glossary["history_type"] = {
            "created": _("Created"),
            "changed": _("Changed"),
            "deleted": _("Deleted"),
        }
        lang = "fr" if (get_language() or "fr").startswith("fr") else "en"
        labels: dict[str, str] = {}
        for referral in self.referrals.values():
            by_code = indicators.load(referral.indicator_list_version)["_by_code"]
            for code in referral.indicators:
                if code in by_code:
                    labels[code] = by_code[code]["label"][lang]
        glossary["indicator"] = dict(sorted(labels.items()))
        return glossary


def case_export(*, case: Case, actor: User) -> dict[str, Any]:
    """The whole record of the case's person, for the manager of the owning
    association (anyone else: NotAllowed); the export is written to the access
    log, with the references of every record it holds."""
    membership = _ensure_owning_manager(actor=actor, case=case)
    duplicates = _duplicate_referral_ids(actor=actor, referral=case.referral)
    export = _Export(actor=actor, referral_ids=[case.referral_id, *duplicates])
    data: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": timezone.now(),
        "exported_by": {"username": actor.get_username(), "agency": membership.agency.name},
        "language": get_language() or "fr",
        "notice": _(
            "Everything MNR holds about this person, for an access request. Before "
            "handing it over, read every value listed in “review”: free text may name "
            "other people, and a possible duplicate may be someone else."
        ),
        "review": [],
        **export.record(case.referral_id),
        "possible_duplicates": [
            _Review(
                {
                    "review": True,
                    "why": _(
                        "possibly the same person (same names and date of birth); check "
                        "before handing over"
                    ),
                    **export.record(referral_id),
                }
            )
            for referral_id in duplicates
        ],
        "glossary": export.glossary(),
    }
    review: list[str] = []
    plain = _finish(data, "$", review)
    plain["review"] = review
    refs = [case.reference]
    refs += [export.referrals[referral_id].reference for referral_id in duplicates]
    access_log_write(
        action=AccessAction.CASE_EXPORT,
        actor=actor,
        target_type="case",
        target_id=case.reference,
        detail={"format": FORMAT, "refs": refs},
    )
    return plain
