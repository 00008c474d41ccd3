"""Synthetic referrals for the demo: a few hundred over three years, with a
realistic mix of forms, ages, sexes, nationalities and départements, pushed
through the real services (routing, declines, escalations, acceptance,
identification, closure). Deterministic: a fixed random seed; dates relative to
the day of seeding.

Deadlines stay plausible: only the referrals of the last two days are left in
the inboxes (a routing whose deadline is about to pass is answered), every
older one is played out; identification files follow the same rule
(demo/identification.py)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from django.utils import timezone

from agencies.models import Agency, Membership, User
from cases import services as case_services
from cases.models import Case
from cases.services import case_close
from demo import identification as identification_demo
from identification import services as identification_services
from referral import services
from referral.models import Referral, Routing

SEED_KEY_PREFIX = "demo-seed-"

# Rough shares after the French yearly survey of victims followed by associations.
FORMS = [
    ("sexual_exploitation", 52),
    ("labour_exploitation", 14),
    ("domestic_servitude", 8),
    ("forced_criminality", 12),
    ("forced_begging", 8),
    ("other", 5),
    ("organ_removal", 1),
]
NATIONALITIES = [
    ("NG", 18),
    ("FR", 14),
    ("RO", 10),
    ("CN", 7),
    ("CI", 6),
    ("BR", 5),
    ("MA", 5),
    ("BG", 4),
    ("DZ", 4),
    ("VN", 4),
    ("CM", 4),
    ("GN", 3),
    ("AF", 3),
    ("TN", 3),
    ("UA", 3),
    ("PK", 2),
    ("CO", 2),
    ("AL", 2),
    ("BA", 1),
]
DEPARTEMENTS = [
    ("75", 22),
    ("93", 14),
    ("92", 6),
    ("94", 6),
    ("95", 4),
    ("91", 3),
    ("77", 3),
    ("78", 3),
    ("13", 10),
    ("69", 8),
    ("06", 5),
    ("59", 4),
    ("33", 3),
    ("31", 3),
    ("67", 2),
    ("44", 2),
    ("34", 2),
    ("971", 1),
    ("974", 1),
]
OTHER_DETAILS = ["mariage forcé", "adoption illégale", "grossesse forcée"]
GIVEN = [
    "Amina",
    "Blessing",
    "Ioana",
    "Mei",
    "Fatou",
    "Ana",
    "Joy",
    "Elena",
    "Ali",
    "Ivan",
    "Mohamed",
    "Nadia",
    "Grace",
    "Sofia",
    "Karim",
    "Lucas",
    "Aya",
    "Precious",
    "Radu",
    "Linh",
]
FAMILY = [
    "Okafor",
    "Popescu",
    "Wang",
    "Traoré",
    "Silva",
    "Benali",
    "Ivanova",
    "Nguyen",
    "Diallo",
    "Dupont",
    "Haddad",
    "Petrov",
    "Osei",
    "Moreau",
    "Kovač",
    "Rahimi",
]
INDICATORS = [
    "coercion_at_destination.debt_bondage",
    "coercion_at_destination.confiscation_of_documents",
    "coercion_at_destination.isolation_confinement_or_surveillance",
    "coercion_at_destination.violence_on_victim",
    "deceptive_recruitment.nature_of_job_location_or_employer",
    "exploitative_conditions.excessive_working_days_or_hours",
    "abuse_of_vulnerability_at_destination.dependency_on_exploiters",
]
CHILD_INDICATORS = [
    "child_specific.unaccompanied_no_responsible_adult",
    "child_specific.group_begging_or_stealing_supervised_by_adults",
    "child_specific.repeated_disappearances_from_care",
    "child_specific.not_attending_school",
]
CLOSURES = [
    ("support_completed", 55),
    ("lost_contact", 18),
    ("person_declined", 10),
    ("returned_home", 7),
    ("moved_abroad", 6),
    ("duplicate", 4),
]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def already_seeded() -> bool:
    return Referral.objects.filter(idempotency_key__startswith=SEED_KEY_PREFIX).exists()


def seed_referrals(*, count: int = 360, seed: int = 2026) -> int:
    """Create `count` synthetic referrals through the services. Returns how many."""
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, not security
    referrers = list(
        User.objects.filter(membership__role=Membership.Role.REFERRER).order_by("username")
    )
    coordinators = list(User.objects.filter(membership__role=Membership.Role.COORDINATOR))
    if not referrers:
        return 0
    now = timezone.now()
    player = identification_demo.Player(random.Random(seed + 1), now)  # noqa: S311
    # Scripted files (every identification status), and a few from the last
    # hours: pending in the inboxes.
    fixed: list[tuple[datetime, identification_demo.Script | None]] = [
        (now - timedelta(days=days), script) for _name, days, script in identification_demo.SCRIPTS
    ]
    fixed += [(now - timedelta(hours=h), None) for h in (30, 20, 9, 5, 3, 1)]
    fixed = fixed[:count]
    start = now - timedelta(days=3 * 365)
    span = (now - timedelta(days=2) - start).total_seconds()
    moments = [
        (start + timedelta(seconds=rng.random() * span), None) for _ in range(count - len(fixed))
    ]
    plan = sorted(moments + fixed, key=lambda item: item[0])
    made = 0
    for i, (moment, script) in enumerate(plan):
        referrer = rng.choice(referrers)
        data = _random_input(rng, referrer, scripted=script is not None)
        referral, created = services.referral_submit(
            actor=referrer, data=data, idempotency_key=f"{SEED_KEY_PREFIX}{i:04d}", now=moment
        )
        if not created:
            continue
        made += 1
        if referral.status != "submitted":
            continue  # anonymous notification
        services.referral_route(referral_id=referral.pk, now=moment + timedelta(minutes=1))
        if script is not None:
            case, responder, clock = _accept_now(referral, moment, now, wait=script.stop == "open")
            player.play(referral, case=case, worker=responder, accepted_at=clock, script=script)
            continue
        if moment > now - timedelta(days=2):
            # Left pending, unless the deadline is about to pass.
            case, responder, clock = _accept_now(referral, moment, now, wait=True)
            player.play(referral, case=case, worker=responder, accepted_at=clock)
            continue
        case, responder, clock = _play_out(rng, referral, moment, coordinators)
        last = player.play(referral, case=case, worker=responder, accepted_at=clock)
        if case is not None:
            _maybe_close(rng, case, responder, clock, now, not_before=last)
    # What the hourly task would have done by now: reminders of the deadlines
    # near, and the unit's access ended where a reconsideration period passed.
    identification_services.deadlines(now=now)
    return made


def _accept_now(
    referral: Referral, moment: datetime, now: datetime, *, wait: bool
) -> tuple[Case | None, User | None, datetime | None]:
    """Accept the referral's pending routing a few hours after it was filed; with
    ``wait``, only if its deadline is about to pass."""
    routing = Routing.objects.filter(referral=referral, outcome="pending").first()
    if routing is None:
        return None, None, None
    clock = moment + timedelta(hours=3)
    if wait:
        if routing.respond_by > now + identification_demo.DUE_SOON:
            return None, None, None
        clock = min(routing.respond_by, now) - timedelta(minutes=30)
    clock = max(clock, moment + timedelta(minutes=5))
    responder = _responder(routing.association)
    case = services.routing_accept(routing_id=routing.pk, actor=responder, now=clock)
    return case, responder, clock


def _random_input(
    rng: random.Random, referrer: User, *, scripted: bool = False
) -> services.ReferralInput:
    """A random referral; ``scripted``: an adult who consents, in Île-de-France,
    not in immediate danger (a scripted identification file)."""
    forms = [_pick(rng, FORMS)]
    if rng.random() < 0.12:
        forms.append(_pick(rng, FORMS))
    forms = sorted(set(forms))
    minor = rng.random() < (0.45 if referrer.membership.agency.sector == "education" else 0.2)
    minor = minor and not scripted
    age = rng.randint(11, 17) if minor else int(min(70, 18 + rng.expovariate(1 / 11)))
    consent = minor or rng.random() < 0.88 or scripted
    sex = rng.choices(["female", "male", "other", "unknown"], weights=[64, 33, 1, 2])[0]
    departement = _pick(rng, DEPARTEMENTS)
    if scripted:
        departement = rng.choice(["75", "93", "94"])
    abroad = rng.random() < 0.15
    known_dob = consent and rng.random() < 0.6
    dob = None
    if known_dob:
        dob = date.today() - timedelta(days=age * 365 + rng.randint(20, 340))
    person = services.PersonInput(
        given_name=rng.choice(GIVEN) if consent else "",
        family_name=rng.choice(FAMILY) if consent and rng.random() < 0.8 else "",
        date_of_birth=dob,
        estimated_age=None if dob else age,
        declared_minor=minor and rng.random() < 0.5,
        sex=sex,
        nationality=_pick(rng, NATIONALITIES),
        languages=rng.sample(
            ["fr", "en", "ro", "zh", "ar", "pt", "es", "bg", "ru"], k=rng.randint(0, 2)
        ),
        current_departement=departement,
    )
    indicators = rng.sample(INDICATORS, k=rng.randint(0, 4))
    if minor:
        indicators += rng.sample(CHILD_INDICATORS, k=rng.randint(1, 2))
    needs = rng.sample(
        [
            "shelter",
            "medical",
            "psychological",
            "legal",
            "interpreter",
            "secure_relocation",
            "residence",
            "financial",
        ],
        k=rng.randint(1, 4),
    )
    if minor:
        needs.append("child_protection")
    return services.ReferralInput(
        exploitation_forms=forms,
        consent_to_referral=consent,
        person=person,
        immediate_danger=rng.random() < 0.12 and not scripted,
        exploitation_other_detail=rng.choice(OTHER_DETAILS) if "other" in forms else "",
        exploitation_departement=None if abroad else departement,
        exploitation_country=rng.choice(["ES", "IT", "LY", "NG", "RO", "BE"]) if abroad else "",
        indicators=indicators,
        needs=needs,
        narrative="Situation fictive générée pour la démonstration." if consent else "",
    )


def _responder(association: Agency) -> User:
    return (
        User.objects.filter(membership__agency=association, membership__role="caseworker")
        .order_by("username")
        .first()
        or User.objects.filter(membership__agency=association).order_by("username").first()
    )


def _play_out(
    rng: random.Random,
    referral: Referral,
    moment: datetime,
    coordinators: list[User],
) -> tuple[Case | None, User | None, datetime]:
    """Withdrawal, declines, escalation, the desk's assignment, acceptance.
    Returns the case with who accepted it and when (no case: withdrawn, or left
    with the desk). At most three declines: no routing is left past its deadline."""
    clock = moment + timedelta(hours=rng.randint(2, 30))
    if rng.random() < 0.04:
        services.referral_withdraw(
            referral_id=referral.pk, actor=referral.referring_user, reason="Doublon", now=clock
        )
        return None, None, clock
    declines = 0
    for _ in range(10):
        referral.refresh_from_db()
        if referral.status == "escalated":
            if not coordinators or rng.random() < 0.2:
                return None, None, clock  # still with the desk
            target = rng.choice(list(Agency.objects.filter(kind="association", active=True)))
            clock += timedelta(hours=rng.randint(2, 24))
            services.referral_assign(
                referral_id=referral.pk, actor=coordinators[0], association_id=target.pk, now=clock
            )
            continue
        routing = Routing.objects.filter(referral=referral, outcome="pending").first()
        if routing is None:
            return None, None, clock
        responder = _responder(routing.association)
        clock += timedelta(hours=rng.randint(1, 20))
        if responder is None or (declines < 3 and rng.random() < 0.15):
            declines += 1
            services.routing_decline(
                routing_id=routing.pk,
                actor=responder or coordinators[0],
                reason=rng.choice(
                    [
                        "Plus de place d'hébergement",
                        "Hors de nos compétences",
                        "Public non couvert en ce moment",
                    ]
                ),
                now=clock,
            )
            continue
        case = services.routing_accept(routing_id=routing.pk, actor=responder, now=clock)
        return case, responder, clock
    return None, None, clock


NOTES = [
    "Premier entretien réalisé avec interprète ; la personne souhaite être hébergée.",
    "Accompagnement aux urgences médicales ; rendez-vous de suivi fixé.",
    "Information sur le droit de porter plainte donnée ; réflexion en cours.",
    "Contact téléphonique régulier ; situation stable.",
]


def _progress_plan(
    rng: random.Random, case: Case, actor: User, opened: datetime, now: datetime
) -> None:
    """Realistic plans: steps already due are mostly done, some set aside, a few
    left overdue; a note or two."""
    age_days = (now - opened).days
    for step in case.steps.order_by("due_date", "pk"):
        if step.due_date and (step.due_date - opened.date()).days > age_days:
            continue  # not due yet
        roll = rng.random()
        if roll < 0.7:
            status = "done"
        elif roll < 0.8:
            status = "declined_by_person"
        elif roll < 0.88:
            status = "not_applicable"
        else:
            continue  # left planned, hence overdue
        when = min(opened + timedelta(days=rng.randint(0, 20)), now - timedelta(hours=1))
        case_services.step_update(
            step_id=step.pk,
            actor=actor,
            expected_version=None,
            changes={"status": status},
            now=when,
        )
    if age_days > 20 and rng.random() < 0.3:  # some people file a complaint
        when = min(opened + timedelta(days=rng.randint(5, 60)), now - timedelta(hours=1))
        step = case_services.step_add(case_id=case.pk, actor=actor, kind="complaint_filed")
        case_services.step_update(
            step_id=step.pk,
            actor=actor,
            expected_version=None,
            changes={"status": "done"},
            now=when,
        )
    for text in rng.sample(NOTES, k=rng.randint(0, 2)):
        when = min(opened + timedelta(days=rng.randint(0, 30)), now - timedelta(hours=1))
        case_services.note_add(case_id=case.pk, actor=actor, text=text, now=when)


def _maybe_close(
    rng: random.Random,
    case: Case,
    actor: User,
    opened: datetime,
    now: datetime,
    *,
    not_before: datetime | None = None,
) -> None:
    """Progress the plan; close older cases, never before the last step of
    their identification file (``not_before``)."""
    _progress_plan(rng, case, actor, opened, now)
    age_days = (now - opened).days
    if age_days > 240 or (age_days > 60 and rng.random() < 0.35):
        closed = opened + timedelta(days=rng.randint(30, max(31, min(age_days - 1, 400))))
        closed = min(closed, now - timedelta(days=1))
        reason = _pick(rng, CLOSURES)
        if not_before is not None and closed < not_before + timedelta(days=1):
            closed = not_before + timedelta(days=1)
            if closed > now - timedelta(days=1):
                return  # still being identified
        case_close(case_id=case.pk, actor=actor, reason=reason, now=closed)
