"""Every state change of referrals and routings (DESIGN §4.1–4.4).

Who may do each of these is decided by the per-object grants, given, moved and
ended through referral.grants (the author, a routed association, the owning
association, the coordination desk) as the process moves. The apps above
follow through the events of referral.signals, sent in the same transaction:
cases opens the case of an accepted routing, stats refreshes its figures.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Accreditation, Agency, Departement, Membership, User
from agencies.selectors import membership_of
from agencies.system import system_user
from common import geo
from common.choices import ExploitationForm
from common.crypto import blind_index
from common.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from common.tasks import enqueue
from common.transitions import ensure_transition
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue

from . import grants, indicators, routing_engine, signals
from .models import (
    Need,
    PresumedVictim,
    ReferenceCounter,
    Referral,
    ReferralForm,
    ReferralStatus,
    Routing,
    RoutingOutcome,
    Sex,
)

logger = logging.getLogger(__name__)

REFERRER_ROLES = {Membership.Role.REFERRER}
IDENTITY_FIELDS = ("given_name", "family_name", "date_of_birth", "phone")
DOB_AGE_TOLERANCE = 3  # years between a date of birth and an estimated age
MIN_DATE_OF_BIRTH = date(1900, 1, 1)


# --- input ------------------------------------------------------------------------


@dataclass
class PersonInput:
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    estimated_age: int | None = None
    declared_minor: bool = False
    sex: str = Sex.UNKNOWN
    nationality: str = ""
    languages: list[str] = field(default_factory=list)
    phone: str = ""
    current_departement: str | None = None


@dataclass
class ReferralInput:
    exploitation_forms: list[str]
    consent_to_referral: bool
    person: PersonInput
    immediate_danger: bool = False
    exploitation_other_detail: str = ""
    exploitation_departement: str | None = None
    exploitation_country: str = ""
    indicators: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    narrative: str = ""


# --- helpers ----------------------------------------------------------------------


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _fingerprint(data: ReferralInput) -> str:
    canonical = json.dumps(asdict(data), sort_keys=True, default=str).encode()
    return hmac.new(settings.MNR_BLIND_INDEX_KEY.encode(), canonical, hashlib.sha256).hexdigest()


def _next_reference(year: int) -> str:
    """MNR-YYYY-NNNNNN, sequential per year: one atomic increment of the year's
    counter row, which stays locked until the submission commits, so simultaneous
    submissions never collide (and a rolled-back submission leaves no gap)."""
    increment = (
        f"UPDATE {ReferenceCounter._meta.db_table} SET last = last + 1 "  # noqa: S608
        "WHERE year = %s RETURNING last"
    )
    with connection.cursor() as cursor:
        cursor.execute(increment, [year])
        row = cursor.fetchone()
        if row is None:
            try:
                with transaction.atomic():
                    ReferenceCounter.objects.create(year=year, last=0)
            except IntegrityError:
                pass  # created by a simultaneous submission
            cursor.execute(increment, [year])
            row = cursor.fetchone()
    return f"MNR-{year}-{row[0]:06d}"


def _deadline(referral: Referral, now: datetime) -> datetime:
    hours = (
        settings.MNR_ROUTING_DEADLINE_DANGER_HOURS
        if referral.immediate_danger
        else settings.MNR_ROUTING_DEADLINE_HOURS
    )
    return now + timedelta(hours=hours)


# --- validation -------------------------------------------------------------------


def _validate(data: ReferralInput, *, today: date) -> dict[str, Any]:
    """Every rule of DESIGN §4.2 on the input; returns derived facts or raises
    ValidationFailed naming each wrong field (nested under "person")."""
    errors: dict[str, Any] = {}
    person_errors: dict[str, list] = {}
    p = data.person

    forms = list(dict.fromkeys(data.exploitation_forms))
    if not forms:
        errors["exploitation_forms"] = [_("Choose at least one form of exploitation.")]
    elif set(forms) - set(ExploitationForm.values):
        errors["exploitation_forms"] = [_("Unknown form of exploitation.")]
    if ExploitationForm.OTHER in forms and not data.exploitation_other_detail.strip():
        errors["exploitation_other_detail"] = [_("Say in a few words what the other form is.")]

    if data.exploitation_departement and data.exploitation_country:
        errors["exploitation_country"] = [
            _("Give either the département of exploitation or the country abroad, not both.")
        ]
    elif not data.exploitation_departement and not data.exploitation_country:
        errors["exploitation_departement"] = [
            _("Give the département of exploitation, or the country if it was abroad.")
        ]
    elif (
        data.exploitation_departement
        and not Departement.objects.filter(code=data.exploitation_departement).exists()
    ):
        errors["exploitation_departement"] = [_("Unknown département code.")]
    elif data.exploitation_country == "FR":
        errors["exploitation_country"] = [_("For France, give the département instead.")]
    elif data.exploitation_country and not geo.is_country(data.exploitation_country):
        errors["exploitation_country"] = [_("Unknown country code (ISO 3166-1 alpha-2).")]

    unknown_indicators = set(data.indicators) - indicators.known_codes()
    if unknown_indicators:
        errors["indicators"] = [
            _("Unknown indicator codes: %(codes)s.")
            % {"codes": ", ".join(sorted(unknown_indicators))}
        ]
    if set(data.needs) - set(Need.values):
        errors["needs"] = [_("Unknown need.")]

    if p.sex not in Sex.values:
        person_errors["sex"] = [_("Unknown value.")]
    if p.nationality and not geo.is_country(p.nationality):
        person_errors["nationality"] = [_("Unknown country code (ISO 3166-1 alpha-2).")]
    if any(not geo.is_language(code) for code in p.languages):
        person_errors["languages"] = [_("Languages are two-letter ISO 639-1 codes.")]
    if (
        p.current_departement
        and not Departement.objects.filter(code=p.current_departement).exists()
    ):
        person_errors["current_departement"] = [_("Unknown département code.")]
    if p.phone and not _plausible_phone(p.phone):
        person_errors["phone"] = [_("Enter a phone number (digits, spaces, +).")]

    age = _age(p, today=today, errors=person_errors)
    presumed_minor = _presumed_minor(p, age)
    anonymous = not presumed_minor and not data.consent_to_referral
    if anonymous:
        refusal = _(
            "Without the consent of an adult, the referral is an anonymous notification: "
            "leave this empty."
        )
        for name in IDENTITY_FIELDS:
            if getattr(p, name):
                person_errors[name] = [refusal]
        if data.narrative.strip():
            errors["narrative"] = [refusal]

    if not unknown_indicators:
        other_public = set(data.indicators) - indicators.codes_for(minor=presumed_minor)
        if other_public:
            message = (
                _("Not on the children's list (a presumed minor): %(codes)s.")
                if presumed_minor
                else _("Only on the children's list (the person is an adult): %(codes)s.")
            )
            errors["indicators"] = [message % {"codes": ", ".join(sorted(other_public))}]

    if person_errors:
        errors["person"] = person_errors
    if errors:
        raise ValidationFailed(_("The referral has errors."), fields=errors)
    return {"forms": forms, "age": age, "presumed_minor": presumed_minor, "anonymous": anonymous}


def _age(p: PersonInput, *, today: date, errors: dict[str, list]) -> int | None:
    """The person's age from the date of birth, else the estimated age; an
    implausible or contradictory value is put in ``errors`` and not used."""
    age: int | None = None
    if p.date_of_birth is not None:
        if p.date_of_birth > today:
            errors["date_of_birth"] = [_("The date of birth cannot be in the future.")]
        elif p.date_of_birth < MIN_DATE_OF_BIRTH:
            errors["date_of_birth"] = [_("The date of birth is not plausible.")]
        else:
            age = _age_on(p.date_of_birth, today)
    if p.estimated_age is not None:
        if not 0 <= p.estimated_age <= 120:
            errors["estimated_age"] = [_("The estimated age is not plausible.")]
        elif age is not None and abs(age - p.estimated_age) > DOB_AGE_TOLERANCE:
            errors["estimated_age"] = [
                _("The estimated age does not match the date of birth (%(age)s years).")
                % {"age": age}
            ]
        elif age is None:
            age = p.estimated_age
    return age


def _presumed_minor(p: PersonInput, age: int | None) -> bool:
    # Presumption of minority: saying one is a minor is enough while age is uncertain;
    # a known age under 18 is a minor too.
    return p.declared_minor or (age is not None and age < 18)


def person_presumed_minor(person: PersonInput, *, today: date | None = None) -> bool:
    """Would the submission presume this person a minor (DESIGN §4.2)? For a form
    that adapts before submitting (the children's indicator list, the notice that
    the CRIP will be told); ``referral_submit`` decides again with the same rule."""
    today = today or timezone.localdate()
    return _presumed_minor(person, _age(person, today=today, errors={}))


def _plausible_phone(value: str) -> bool:
    digits = [c for c in value if c.isdigit()]
    return all(c.isdigit() or c in "+ .-()" for c in value) and 6 <= len(digits) <= 20


# --- submission -------------------------------------------------------------------


IDEMPOTENCY_KEY_MAX = 100  # Referral.idempotency_key's length


def referral_submit(
    *,
    actor: User,
    data: ReferralInput,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> tuple[Referral, bool]:
    """File a referral. Returns (referral, created). The same Idempotency-Key from
    the same user returns the first referral; with a different body it is a 409."""
    membership = membership_of(actor)
    if membership is None or membership.role not in REFERRER_ROLES:
        raise NotAllowed(_("Only referrers of a frontline agency file referrals."))
    idempotency_key = idempotency_key.strip()
    if len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationFailed(
            _("Invalid input."), fields={"Idempotency-Key": [_("At most 100 characters.")]}
        )
    fingerprint = _fingerprint(data)
    if idempotency_key:
        existing = _replay(actor=actor, key=idempotency_key, fingerprint=fingerprint)
        if existing is not None:
            return existing, False
    try:
        referral = _submit(
            actor=actor,
            agency=membership.agency,
            data=data,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            now=now or timezone.now(),
        )
    except IntegrityError:
        # A simultaneous request with the same key won the race.
        existing = _replay(actor=actor, key=idempotency_key, fingerprint=fingerprint)
        if idempotency_key and existing is not None:
            return existing, False
        raise
    return referral, True


def _replay(*, actor: User, key: str, fingerprint: str) -> Referral | None:
    existing = Referral.objects.filter(referring_user=actor, idempotency_key=key).first()
    if existing is not None and existing.idempotency_fingerprint != fingerprint:
        raise Conflict(_("This Idempotency-Key was used for a different referral."))
    return existing


@transaction.atomic
def _submit(
    *,
    actor: User,
    agency: Agency,
    data: ReferralInput,
    idempotency_key: str,
    fingerprint: str,
    now: datetime,
) -> Referral:
    today = timezone.localdate(now)
    facts = _validate(data, today=today)
    p = data.person
    referral = Referral(
        reference=_next_reference(today.year),
        referring_user=actor,
        referring_agency=agency,
        submitted_at=now,
        immediate_danger=data.immediate_danger,
        status=ReferralStatus.NOTIFIED if facts["anonymous"] else ReferralStatus.SUBMITTED,
        exploitation_forms=facts["forms"],
        exploitation_other_detail=data.exploitation_other_detail.strip(),
        exploitation_departement_id=data.exploitation_departement or None,
        exploitation_country=data.exploitation_country,
        indicators=sorted(set(data.indicators)),
        indicator_list_version=indicators.CURRENT_VERSION,
        narrative=data.narrative.strip(),
        needs=sorted(set(data.needs)),
        consent_to_referral=data.consent_to_referral,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=fingerprint if idempotency_key else "",
    )
    referral._history_user = actor
    referral.save()
    ReferralForm.objects.bulk_create(
        [ReferralForm(referral=referral, form=form) for form in facts["forms"]]
    )
    dob = p.date_of_birth.isoformat() if p.date_of_birth else ""
    person = PresumedVictim(
        referral=referral,
        given_name=p.given_name.strip(),
        family_name=p.family_name.strip(),
        date_of_birth=dob,
        estimated_age=p.estimated_age,
        declared_minor=p.declared_minor,
        presumed_minor=facts["presumed_minor"],
        age_years=facts["age"],
        sex=p.sex,
        nationality=p.nationality,
        languages=sorted(set(p.languages)),
        phone=p.phone.strip(),
        current_departement_id=p.current_departement or None,
        blind_index=blind_index(
            given_name=p.given_name, family_name=p.family_name, date_of_birth=dob
        ),
    )
    person._history_user = actor
    person.save()
    signals.referral_changed.send(sender=Referral, referral_ids=[referral.pk])
    grants.grant_author(referral=referral)
    if facts["presumed_minor"]:
        _notify_crip(referral=referral, person=person, actor=actor, now=now)
    if not facts["anonymous"]:
        from .tasks import referral_route_task

        transaction.on_commit(partial(enqueue, referral_route_task, referral.pk))
    return referral


def _notify_crip(*, referral: Referral, person: PresumedVictim, actor: User, now: datetime) -> None:
    """A minor: the CRIP of the département where the child is (else where exploited)
    is notified through the outbox, and that is recorded on the referral."""
    departement = person.current_departement_id or referral.exploitation_departement_id
    crip = (
        Agency.objects.filter(
            kind=Agency.Kind.CHILD_PROTECTION, departement_id=departement, active=True
        )
        .order_by("pk")
        .first()
        if departement
        else None
    )
    if crip is None:
        outbox_enqueue(
            kind=OutboxMessage.Kind.CRIP_MISSING,
            reference=referral.reference,
            coordination_desk=True,
        )
        return
    outbox_enqueue(kind=OutboxMessage.Kind.CRIP_MINOR, reference=referral.reference, agency=crip)
    referral.crip_agency = crip
    referral.crip_notified_at = now
    referral._history_user = actor
    referral.save(update_fields=["crip_agency", "crip_notified_at", "updated_at"])


# --- routing ----------------------------------------------------------------------


def referral_facts(referral: Referral, *, today: date) -> routing_engine.ReferralFacts:
    person = referral.person
    if person.presumed_minor:
        public = routing_engine.MINORS
    elif person.sex == Sex.FEMALE:
        public = routing_engine.ADULT_WOMEN
    elif person.sex == Sex.MALE:
        public = routing_engine.ADULT_MEN
    else:
        public = routing_engine.ADULTS
    departement_code = referral.routing_departement_id
    region = (
        Departement.objects.filter(code=departement_code)
        .values_list("region_id", flat=True)
        .first()
        if departement_code
        else None
    )
    return routing_engine.ReferralFacts(
        forms=frozenset(referral.exploitation_forms),
        public=public,
        departement=departement_code,
        region=region,
        exploitation_departement=referral.exploitation_departement_id,
        needs_relocation="secure_relocation" in referral.needs,
        today=today,
    )


def association_facts(*, today: date) -> list[routing_engine.AssociationFacts]:
    """Every association with its accreditations valid today, read as plain rows
    (3 queries, no model instances: this runs on every routing decision)."""
    accreditations: dict[int, list[dict]] = {}
    valid = Accreditation.objects.filter(
        association__kind=Agency.Kind.ASSOCIATION, valid_from__lte=today, valid_until__gte=today
    )
    rows = valid.values(
        "pk",
        "association_id",
        "valid_from",
        "valid_until",
        "exploitation_forms",
        "publics",
        "national",
        "capacity",
        "secure_relocation",
    )
    by_pk = {}
    for row in rows:
        row["departements"] = set()
        by_pk[row["pk"]] = row
        accreditations.setdefault(row["association_id"], []).append(row)
    territory = Accreditation.departements.through.objects.filter(
        accreditation__in=valid.filter(national=False).values("pk")
    ).values_list("accreditation_id", "departement_id")
    for accreditation_id, code in territory:
        by_pk[accreditation_id]["departements"].add(code)
    associations = (
        Agency.objects.filter(kind=Agency.Kind.ASSOCIATION)
        .order_by("pk")
        .values_list("pk", "name", "active", "departement_id", "departement__region_id")
    )
    return [
        routing_engine.AssociationFacts(
            id=pk,
            name=name,
            active=active,
            departement=departement,
            region=region,
            accreditations=tuple(
                routing_engine.AccreditationFacts(
                    valid_from=acc["valid_from"],
                    valid_until=acc["valid_until"],
                    forms=frozenset(acc["exploitation_forms"]),
                    publics=frozenset(acc["publics"]),
                    national=acc["national"],
                    departements=frozenset(acc["departements"]),
                    capacity=acc["capacity"],
                    secure_relocation=acc["secure_relocation"],
                )
                for acc in accreditations.get(pk, ())
            ),
        )
        for pk, name, active, departement, region in associations
    ]


def open_case_counts() -> dict[int, int]:
    """Open cases per association, the load the routing engine balances. Cases
    sit above referrals: their model is read by name, never imported."""
    Case = apps.get_model("cases", "Case")
    return dict(
        Case.objects.filter(status=Case.Status.OPEN)
        .values("association")
        .annotate(n=Count("pk"))
        .values_list("association", "n")
    )


def _create_routing(
    *,
    referral: Referral,
    association: Agency,
    now: datetime,
    actor: User,
    explanation: dict,
    assigned_by: User | None = None,
) -> Routing:
    routing = Routing(
        referral=referral,
        association=association,
        routed_at=now,
        respond_by=_deadline(referral, now),
        explanation=explanation,
        assigned_by=assigned_by,
    )
    routing._history_user = actor
    routing.save()
    grants.grant_routing(routing=routing)
    referral.status = ReferralStatus.ROUTED
    referral._history_user = actor
    referral.save(update_fields=["status", "updated_at"])
    signals.referral_changed.send(sender=Referral, referral_ids=[referral.pk])
    outbox_enqueue(
        kind=OutboxMessage.Kind.ROUTING_NEW, reference=referral.reference, agency=association
    )
    return routing


def _route_next(*, referral: Referral, actor: User, now: datetime) -> Routing | None:
    """Route to the best candidate not tried yet, or escalate when none is left.
    The referral row is locked by the caller."""
    today = timezone.localdate(now)
    tried = set(referral.routings.values_list("association_id", flat=True))
    decision = routing_engine.rank(
        referral_facts(referral, today=today),
        association_facts(today=today),
        open_cases=open_case_counts(),
        tried=tried,
    )
    if decision.chosen is None:
        ensure_transition(referral, to=ReferralStatus.ESCALATED, field_name="status")
        referral.status = ReferralStatus.ESCALATED
        referral.escalated_at = now
        referral._history_user = actor
        referral.save(update_fields=["status", "escalated_at", "updated_at"])
        grants.grant_desk(referral=referral)
        signals.referral_changed.send(sender=Referral, referral_ids=[referral.pk])
        outbox_enqueue(
            kind=OutboxMessage.Kind.REFERRAL_ESCALATED,
            reference=referral.reference,
            coordination_desk=True,
        )
        return None
    ensure_transition(referral, to=ReferralStatus.ROUTED, field_name="status")
    association = Agency.objects.select_related("group").get(pk=decision.chosen.association_id)
    return _create_routing(
        referral=referral,
        association=association,
        now=now,
        actor=actor,
        explanation=decision.explanation(),
    )


@transaction.atomic
def referral_route(*, referral_id: int, now: datetime | None = None) -> Routing | None:
    """Route a submitted referral (task, sweep). Idempotent: anything but a
    referral still `submitted` is left as it is."""
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(pk=referral_id)
        .first()
    )
    if referral is None or referral.status != ReferralStatus.SUBMITTED:
        return None
    return _route_next(referral=referral, actor=system_user(), now=now or timezone.now())


def _lock_routing(routing_id: int) -> tuple[Routing, Referral]:
    routing = (
        Routing.objects.select_for_update(of=("self",))
        .select_related("association__group")
        .filter(pk=routing_id)
        .first()
    )
    if routing is None:
        raise NotFound(_("Not found."))
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(pk=routing.referral_id)
    )
    routing.referral = referral
    return routing, referral


def _ensure_responder(actor: User, routing: Routing) -> None:
    """The routed association answers through its own grant on the referral."""
    if not grants.holds_through(
        actor, grants.RESPOND, routing.referral_id, routing.association.group_id
    ):
        raise NotAllowed(_("Only the association this referral was routed to can answer."))


@transaction.atomic
def routing_accept(*, routing_id: int, actor: User, now: datetime | None = None) -> Any:
    """Accept a pending routing: the referral is accepted and its case opened
    (by cases, on ``signals.routing_accepted``, in this transaction); returns the
    case. Row locks plus the one-case-per-referral constraint make two
    simultaneous acceptances yield one case and one 409."""
    now = now or timezone.now()
    routing, referral = _lock_routing(routing_id)
    ensure_transition(routing, to=RoutingOutcome.ACCEPTED, field_name="outcome")
    _ensure_responder(actor, routing)
    ensure_transition(referral, to=ReferralStatus.ACCEPTED, field_name="status")
    routing.outcome = RoutingOutcome.ACCEPTED
    routing.responded_by = actor
    routing.responded_at = now
    routing._history_user = actor
    routing.save()
    grants.end_routing(routing=routing, accepted=True)
    if referral.escalated_at is not None:
        grants.end_desk(referral=referral)
    referral.status = ReferralStatus.ACCEPTED
    referral.accepted_at = now
    referral._history_user = actor
    referral.save(update_fields=["status", "accepted_at", "updated_at"])
    signals.routing_accepted.send(
        sender=Routing, routing=routing, referral=referral, actor=actor, now=now
    )
    case = referral.case  # opened by the receiver, in this transaction
    signals.referral_changed.send(sender=Referral, referral_ids=[referral.pk])
    outbox_enqueue(
        kind=OutboxMessage.Kind.REFERRAL_ACCEPTED,
        reference=referral.reference,
        user=referral.referring_user,
    )
    return case


@transaction.atomic
def routing_decline(
    *, routing_id: int, actor: User, reason: str, now: datetime | None = None
) -> Routing:
    """Decline with a reason; the referral goes to the next candidate (or escalates)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("A reason is needed."), fields={"reason": [_("Say why you decline.")]}
        )
    routing, referral = _lock_routing(routing_id)
    ensure_transition(routing, to=RoutingOutcome.DECLINED, field_name="outcome")
    _ensure_responder(actor, routing)
    routing.outcome = RoutingOutcome.DECLINED
    routing.reason = reason
    routing.responded_by = actor
    routing.responded_at = now
    routing._history_user = actor
    routing.save()
    grants.end_routing(routing=routing, accepted=False)
    _route_next(referral=referral, actor=actor, now=now)
    return routing


@transaction.atomic
def routing_expire(*, routing_id: int, now: datetime | None = None) -> bool:
    """Expire a pending routing past its deadline and route to the next candidate.
    Idempotent: False when it is no longer pending or not overdue."""
    now = now or timezone.now()
    routing, referral = _lock_routing(routing_id)
    if routing.outcome != RoutingOutcome.PENDING or routing.respond_by > now:
        return False
    actor = system_user()
    routing.outcome = RoutingOutcome.EXPIRED
    routing.responded_at = now
    routing._history_user = actor
    routing.save()
    grants.end_routing(routing=routing, accepted=False)
    _route_next(referral=referral, actor=actor, now=now)
    return True


@transaction.atomic
def referral_withdraw(
    *, referral_id: int, actor: User, reason: str = "", now: datetime | None = None
) -> Referral:
    """The author withdraws their referral before acceptance; a pending routing is
    cancelled and the association loses access."""
    now = now or timezone.now()
    referral = Referral.objects.select_for_update().get(pk=referral_id)
    if not grants.holds(actor, grants.WITHDRAW, referral.pk):
        raise NotAllowed(_("Only the author can withdraw a referral."))
    ensure_transition(referral, to=ReferralStatus.WITHDRAWN, field_name="status")
    for routing in (
        Routing.objects.select_for_update(of=("self",))
        .select_related("association__group")
        .filter(referral=referral, outcome=RoutingOutcome.PENDING)
    ):
        routing.outcome = RoutingOutcome.CANCELLED
        routing.responded_at = now
        routing._history_user = actor
        routing.save()
        routing.referral = referral
        grants.end_routing(routing=routing, accepted=False)
    referral.status = ReferralStatus.WITHDRAWN
    referral.withdrawn_at = now
    referral.withdrawal_reason = (reason or "").strip()[:500]
    referral._history_user = actor
    referral.save(update_fields=["status", "withdrawn_at", "withdrawal_reason", "updated_at"])
    if referral.escalated_at is not None:
        grants.end_desk(referral=referral)
    signals.referral_changed.send(sender=Referral, referral_ids=[referral.pk])
    return referral


@transaction.atomic
def referral_assign(
    *, referral_id: int, actor: User, association_id: int, now: datetime | None = None
) -> Routing:
    """The coordination desk routes an escalated referral to an association of its
    choice (active; accredited or not, the desk decides)."""
    now = now or timezone.now()
    if not grants.holds(actor, grants.ASSIGN, referral_id):
        raise NotAllowed(_("Only the coordination desk assigns escalated referrals."))
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(pk=referral_id)
    )
    association = (
        Agency.objects.select_related("group")
        .filter(pk=association_id, kind=Agency.Kind.ASSOCIATION, active=True)
        .first()
    )
    if association is None:
        raise ValidationFailed(
            _("Invalid assignment."),
            fields={"association": [_("Choose an active accredited association.")]},
        )
    if referral.status != ReferralStatus.ESCALATED:
        raise InvalidTransition(_("Only an escalated referral can be assigned."))
    return _create_routing(
        referral=referral,
        association=association,
        now=now,
        actor=actor,
        explanation={"engine": "coordination-desk", "assigned_by": actor.get_username()},
        assigned_by=actor,
    )


# --- periodic work ----------------------------------------------------------------


def overdue_routing_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Routing.objects.filter(outcome=RoutingOutcome.PENDING, respond_by__lte=now)
        .order_by("respond_by")
        .values_list("pk", flat=True)[:limit]
    )


def stale_submitted_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Referral.objects.filter(
            status=ReferralStatus.SUBMITTED,
            submitted_at__lte=now - settings.MNR_SWEEP_SUBMITTED_AFTER,
        )
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:limit]
    )
