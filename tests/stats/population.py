"""Populations of known truth for the attack tests: referrals bulk-inserted with
only their statistical fields, then the statistics table rebuilt and published
exactly as the nightly job and the monthly publication do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agencies.models import Agency, Departement, User
from cases.models import Case
from referral.models import PresumedVictim, Referral, ReferralForm
from stats.services import facts_rebuild, stats_publish

AGES = {True: 15, False: 30}  # minor → age group "minor", adult → "25-34"

# The referrals' ids, hence their record keys, hence every perturbation: fixed,
# so an attack's outcome does not depend on how many referrals earlier tests
# created (the sequence never rolls back).
FIRST_ID = 1_000_000


@dataclass(frozen=True)
class Person:
    sex: str
    minor: bool
    nationality: str
    departement: str
    form: str
    month: int  # of 2025
    case: bool = False

    @property
    def age_group(self) -> str:
        return "minor" if self.minor else "25-34"

    @property
    def quarter(self) -> str:
        return f"2025-Q{(self.month + 2) // 3}"

    @property
    def month_label(self) -> str:
        return f"2025-{self.month:02d}"


def build(people: list[Person], *, referrer: User, association: Agency) -> list[Referral]:
    """Insert these people as referrals of 2025 (a case opened the same day when
    ``case``), rebuild the statistics table and publish it."""
    Case.objects.all().delete()
    Referral.objects.all().delete()
    deps = {d.code: d for d in Departement.objects.filter(code__in={p.departement for p in people})}
    referrals = Referral.objects.bulk_create(
        [
            Referral(
                id=FIRST_ID + i,
                reference=f"MNR-T-{i:06d}",
                referring_user=referrer,
                referring_agency=referrer.membership.agency,
                submitted_at=datetime(2025, p.month, 10, 12, tzinfo=UTC) + timedelta(minutes=i),
                accepted_at=(
                    datetime(2025, p.month, 10, 12, tzinfo=UTC) + timedelta(minutes=i)
                    if p.case
                    else None
                ),
                status="accepted" if p.case else "routed",
                exploitation_forms=[p.form],
                exploitation_departement=deps[p.departement],
                indicator_list_version="ilo-2009-adapted.1",
                consent_to_referral=True,
            )
            for i, p in enumerate(people)
        ]
    )
    PresumedVictim.objects.bulk_create(
        [
            PresumedVictim(
                referral=r,
                sex=p.sex,
                nationality=p.nationality,
                age_years=AGES[p.minor],
                presumed_minor=p.minor,
                current_departement=deps[p.departement],
            )
            for r, p in zip(referrals, people, strict=True)
        ]
    )
    ReferralForm.objects.bulk_create(
        [ReferralForm(referral=r, form=p.form) for r, p in zip(referrals, people, strict=True)]
    )
    Case.objects.bulk_create(
        [
            Case(
                referral=r,
                reference=r.reference,
                association=association,
                opened_at=r.submitted_at,
            )
            for r, p in zip(referrals, people, strict=True)
            if p.case
        ]
    )
    facts_rebuild()
    stats_publish()
    return referrals


def constants() -> dict:
    """The dimensions with one value for the whole published population."""
    from stats.models import PublishedFact

    found = {}
    for name in [
        "exploited_abroad_only",
        "complaint_filed",
        "referring_sector",
        # No identification file in these populations: "none" throughout.
        "preliminary_outcome",
        "formal_outcome",
        "negative_reason",
        "preliminary_days",
        "formal_days",
        "pending_age",
    ]:
        values = set(PublishedFact.objects.values_list(name, flat=True))
        assert len(values) == 1, (name, values)
        found[name] = values.pop()
    return found
