"""Identification files for the demo's synthetic referrals (docs/identification.md).

A file opens by itself when a referral is routed; this takes it through the
stages a file of its age would have reached, through the real services, with
``now=`` in the past: the unit's preliminary decision, the association's
evidence, its request for the formal decision once the recovery period has
ended, the formal decision, and now and then a reconsideration decided by
another member of the unit.

Deadlines stay plausible the way the routings' do: every step is taken before
its deadline, and a step that would fall after the seed's moment is not taken,
so what is left waiting is waiting within its deadline (a step whose deadline
is about to pass is taken now instead). A few referrals follow a fixed script
(``SCRIPTS``) so that every status is there, whatever the number of referrals.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from agencies.models import Membership, User
from cases.models import Case
from identification import services
from identification.models import (
    EvidenceSection,
    Identification,
    NegativeReason,
    Outcome,
    Status,
    WithdrawalReason,
)
from referral import indicators as indicator_list
from referral.models import Referral

# Nothing is done in the last hour before the seed's moment.
HORIZON = timedelta(hours=1)
# A step whose deadline falls before this much after the seed's moment is taken now.
DUE_SOON = timedelta(hours=6)


@dataclass(frozen=True)
class Script:
    """How one file goes. Delays are fractions of the time left to the
    deadline, or days after the previous step; ``stop`` names the last step
    taken (None: as far as time allows)."""

    preliminary: str = Outcome.POSITIVE
    preliminary_at: float = 0.4
    reconsider_after_days: int | None = None  # after a negative decision
    reconsidered: str = Outcome.POSITIVE
    reconsidered_at: float = 0.5
    submit_after_days: int = 3  # after the end of the recovery period
    formal: str = Outcome.IDENTIFIED
    formal_at: float = 0.5
    formal_reconsider_after_days: int | None = None
    formal_reconsidered: str = Outcome.IDENTIFIED
    # "open" (nothing done), "reconsideration_request", "submit", "formal_request"
    stop: str | None = None


# Fixed scripts: (the status they leave the file in, days before the seed's
# moment the referral is filed, script). Adults who consent, not in immediate
# danger, in Île-de-France (the regional unit), accepted three hours after
# filing (the first one is left in the inbox).
SCRIPTS: list[tuple[str, float, Script]] = [
    ("preliminary_pending", 0.2, Script(stop="open")),
    ("not_presumed", 6, Script(preliminary=Outcome.NEGATIVE, preliminary_at=0.5)),
    (
        "preliminary_reconsideration",
        9,
        Script(
            preliminary=Outcome.NEGATIVE,
            preliminary_at=0.3,
            reconsider_after_days=5,
            stop="reconsideration_request",
        ),
    ),
    ("presumed", 12, Script(preliminary_at=0.3)),
    ("formal_pending", 45, Script(preliminary_at=0.2, submit_after_days=3, stop="submit")),
    (
        "formal_reconsideration",
        80,
        Script(
            preliminary_at=0.2,
            submit_after_days=1,
            formal=Outcome.NOT_IDENTIFIED,
            formal_at=0.3,
            formal_reconsider_after_days=20,
            stop="formal_request",
        ),
    ),
    ("withdrawn", 95, Script(formal=Outcome.WITHDRAWN)),
    ("not_identified", 100, Script(formal=Outcome.NOT_IDENTIFIED)),
    ("identified", 120, Script()),
]

NEGATIVE_EXPLANATIONS = [
    "Les éléments transmis ne montrent pas, à ce stade, de finalité d'exploitation.",
    "Le recrutement et l'hébergement sont établis ; aucun moyen de contrainte n'apparaît.",
    "Les indicateurs relevés ne suffisent pas, en l'état du dossier.",
]
NEW_ELEMENTS = [
    "Nouvel entretien avec une interprète : la personne décrit la confiscation de ses papiers.",
    "Attestation de l'hébergeur sur les conditions de travail imposées, reçue depuis la décision.",
    "Récit complété après un suivi psychologique : dette imposée et menaces sur la famille.",
]
FIRST_ASSESSMENTS = [
    "Premier entretien : récit cohérent, emprise forte, peur de représailles.",
    "Évaluation initiale : situation de dépendance au logement et au travail.",
    "Premier contact : la personne décrit un recrutement trompeur et une dette.",
]
INTERVIEWS = [
    "Entretien approfondi avec interprète ; récit détaillé et constant.",
    "Entretien avec la psychologue de l'association ; éléments d'emprise confirmés.",
]
DOCUMENTS = [
    "Contrat de travail fictif vu (détenu par la personne).",
    "Messages de menaces vus sur le téléphone de la personne (détenus par elle).",
    "Certificat médical vu (détenu par l'hôpital).",
]


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def random_script(rng: random.Random) -> Script:
    """A file's course, after rough shares: most presumed and identified."""
    negative = rng.random() < 0.15
    formal_roll = rng.random()
    formal = (
        Outcome.IDENTIFIED
        if formal_roll < 0.82
        else Outcome.NOT_IDENTIFIED
        if formal_roll < 0.94
        else Outcome.WITHDRAWN
    )
    return Script(
        preliminary=Outcome.NEGATIVE if negative else Outcome.POSITIVE,
        preliminary_at=rng.uniform(0.05, 0.9),
        reconsider_after_days=rng.randint(2, 25) if rng.random() < 0.35 else None,
        reconsidered=Outcome.POSITIVE if rng.random() < 0.5 else Outcome.NEGATIVE,
        reconsidered_at=rng.uniform(0.1, 0.9),
        submit_after_days=rng.randint(0, 14),
        formal=formal,
        formal_at=rng.uniform(0.1, 0.9),
        formal_reconsider_after_days=rng.randint(2, 25) if rng.random() < 0.35 else None,
        formal_reconsidered=Outcome.IDENTIFIED if rng.random() < 0.5 else Outcome.NOT_IDENTIFIED,
    )


class Player:
    """Plays scripts on files; knows the units' decision-makers."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.horizon = now - HORIZON
        self._deciders: dict[tuple[int, bool], list[User]] = {}

    def deciders(self, identification: Identification) -> list[User]:
        key = (identification.unit_id, identification.minor)
        if key not in self._deciders:
            members = User.objects.filter(
                is_active=True,
                membership__agency_id=identification.unit_id,
                membership__role=Membership.Role.DECISION_MAKER,
            )
            if identification.minor:
                members = members.filter(membership__children_trained=True)
            self._deciders[key] = list(members.order_by("username"))
        return self._deciders[key]

    def _when(self, start: datetime, deadline: datetime, fraction: float) -> datetime | None:
        """The moment of a step due by ``deadline``, or None when it is still to come."""
        moment = start + (deadline - start) * fraction
        if moment <= self.horizon:
            return moment
        if deadline <= self.now + DUE_SOON:
            return max(start, self.horizon)  # never left overdue
        return None

    def play(
        self,
        referral: Referral,
        *,
        case: Case | None,
        worker: User | None,
        accepted_at: datetime | None,
        script: Script | None = None,
    ) -> datetime | None:
        """Take the referral's file as far as ``script`` and time allow. Returns
        the moment of the last step taken (None: nothing was done)."""
        identification = Identification.objects.filter(referral=referral).first()
        if identification is None or identification.status != Status.PRELIMINARY_PENDING:
            return None  # no file (anonymous notification), or withdrawn with the referral
        script = script or random_script(self.rng)
        if script.stop == "open":
            return None
        if case is None:
            worker = None  # nobody holds the case: only the unit's decision
        last: datetime | None = None
        if worker is not None and accepted_at is not None and accepted_at < self.horizon:
            last = min(accepted_at + timedelta(hours=2), self.horizon)
            services.evidence_add(
                identification_id=identification.pk,
                actor=worker,
                section=EvidenceSection.FIRST_ASSESSMENT,
                text=self.rng.choice(FIRST_ASSESSMENTS),
                now=last,
            )
        deciders = self.deciders(identification)
        if not deciders:
            return last
        # Stage 1: the preliminary decision, and perhaps its reconsideration.
        decider = self.rng.choice(deciders)
        moment = self._when(
            identification.opened_at, identification.decide_by, script.preliminary_at
        )
        if moment is None:
            return last
        identification = self._decide(identification, decider, script.preliminary, moment)
        last = moment
        if script.preliminary == Outcome.NEGATIVE:
            others = [user for user in deciders if user.pk != decider.pk]
            if script.reconsider_after_days is None or worker is None or not others:
                return last
            moment = last + timedelta(days=script.reconsider_after_days)
            if (
                moment > self.horizon
                or timezone.localdate(moment) > identification.reconsider_until
            ):
                return last
            identification = services.reconsideration_request(
                identification_id=identification.pk,
                actor=worker,
                new_elements=self.rng.choice(NEW_ELEMENTS),
                now=moment,
            )
            last = moment
            if script.stop == "reconsideration_request":
                return last
            moment = self._when(last, identification.decide_by, script.reconsidered_at)
            if moment is None:
                return last
            identification = self._decide(
                identification, self.rng.choice(others), script.reconsidered, moment
            )
            last = moment
            if script.reconsidered == Outcome.NEGATIVE:
                return last
        # Stage 2: the evidence file, then the formal decision after the recovery period.
        if worker is None:
            return last
        starts, ends = identification.recovery_starts_on, identification.recovery_ends_on
        for day, section, text, code in self._evidence(identification, starts):
            added = _at(day, 15)
            if added > self.horizon:
                break
            services.evidence_add(
                identification_id=identification.pk,
                actor=worker,
                section=section,
                text=text,
                indicator=code,
                on_date=day,
                now=added,
            )
            last = max(last, added)
        moment = _at(ends + timedelta(days=script.submit_after_days), 10)
        if moment > self.horizon:
            return last
        identification = services.evidence_submit(
            identification_id=identification.pk, actor=worker, now=moment
        )
        last = moment
        if script.stop == "submit":
            return last
        decider = self.rng.choice(deciders)
        moment = self._when(last, identification.decide_by, script.formal_at)
        if moment is None:
            return last
        identification = self._decide(identification, decider, script.formal, moment)
        last = moment
        others = [user for user in deciders if user.pk != decider.pk]
        if (
            script.formal != Outcome.NOT_IDENTIFIED
            or script.formal_reconsider_after_days is None
            or not others
        ):
            return last
        moment = last + timedelta(days=script.formal_reconsider_after_days)
        if moment > self.horizon or timezone.localdate(moment) > identification.reconsider_until:
            return last
        identification = services.reconsideration_request(
            identification_id=identification.pk,
            actor=worker,
            new_elements=self.rng.choice(NEW_ELEMENTS),
            now=moment,
        )
        last = moment
        if script.stop == "formal_request":
            return last
        moment = self._when(last, identification.decide_by, script.reconsidered_at)
        if moment is None:
            return last
        self._decide(identification, self.rng.choice(others), script.formal_reconsidered, moment)
        return moment

    def _decide(
        self, identification: Identification, actor: User, outcome: str, moment: datetime
    ) -> Identification:
        reasons: list[str] = []
        explanation = ""
        if outcome in (Outcome.NEGATIVE, Outcome.NOT_IDENTIFIED):
            choices = [code for code in NegativeReason.values if code != NegativeReason.OTHER]
            reasons = self.rng.sample(choices, k=self.rng.randint(1, 2))
            explanation = self.rng.choice(NEGATIVE_EXPLANATIONS)
        elif outcome == Outcome.WITHDRAWN:
            reasons = [WithdrawalReason.PERSON_LEFT]
            explanation = "La personne a quitté l'accompagnement et n'a plus donné de nouvelles."
        return services.identification_decide(
            identification_id=identification.pk,
            actor=actor,
            outcome=outcome,
            reasons=reasons,
            explanation=explanation,
            now=moment,
        )

    def _evidence(self, identification: Identification, starts: date) -> list[tuple]:
        """What the association adds during the recovery period: an interview,
        an indicator confirmed (one the referrer saw, when on the list), and
        sometimes a document seen."""
        entries = [
            (
                starts + timedelta(days=self.rng.randint(2, 12)),
                EvidenceSection.INTERVIEW,
                self.rng.choice(INTERVIEWS),
                "",
            )
        ]
        known = indicator_list.codes_for(minor=identification.minor)
        seen = sorted(set(identification.referral.indicators) & known)
        if seen:
            entries.append(
                (
                    starts + timedelta(days=self.rng.randint(5, 20)),
                    EvidenceSection.INDICATOR_CONFIRMED,
                    "Confirmé lors des entretiens.",
                    self.rng.choice(seen),
                )
            )
        if self.rng.random() < 0.5:
            entries.append(
                (
                    starts + timedelta(days=self.rng.randint(5, 25)),
                    EvidenceSection.DOCUMENT_SEEN,
                    self.rng.choice(DOCUMENTS),
                    "",
                )
            )
        return sorted(entries, key=lambda entry: entry[0])
