"""Filing a referral: idempotent submission, the CRIP notice for a minor, and
routing enqueued on commit.

The same Idempotency-Key from the same user returns the first referral (a
different body under it is a 409); the reference is taken from the year's
counter inside the transaction, so a rolled-back submission leaves no gap.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict
from datetime import datetime
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Membership, User
from agencies.selectors import membership_of
from common.crypto import blind_index
from common.errors import Conflict, NotAllowed, ValidationFailed
from common.tasks import enqueue
from common.transitions import save_by
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue

from .. import grants, indicators, signals
from ..models import PresumedVictim, Referral, ReferralForm, ReferralStatus
from .intake import ReferralInput, validate
from .numbering import next_reference

REFERRER_ROLES = {Membership.Role.REFERRER}


def _fingerprint(data: ReferralInput) -> str:
    canonical = json.dumps(asdict(data), sort_keys=True, default=str).encode()
    return hmac.new(settings.MNR_BLIND_INDEX_KEY.encode(), canonical, hashlib.sha256).hexdigest()


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
    facts = validate(data, today=today)
    p = data.person
    referral = Referral(
        reference=next_reference(today.year),
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
    save_by(referral, actor=actor)
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
    save_by(person, actor=actor)
    signals.referral_changed.send(sender=Referral, referral_ids=[referral.pk])
    grants.grant_author(referral=referral)
    if facts["presumed_minor"]:
        _notify_crip(referral=referral, person=person, actor=actor, now=now)
    if not facts["anonymous"]:
        from ..tasks import referral_route_task

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
    save_by(referral, actor=actor, update_fields=["crip_agency", "crip_notified_at"])


# --- routing ----------------------------------------------------------------------
