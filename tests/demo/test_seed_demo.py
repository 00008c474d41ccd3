from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import override_settings

from agencies.models import Accreditation, Agency, Membership, User
from demo import agencies as demo

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def snapshot() -> dict:
    return {
        "counts": row_counts(),
        "agencies": list(Agency.objects.order_by("pk").values()),
        "accreditations": list(Accreditation.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values("username", "password", "is_staff")),
    }


@override_settings(MNR_DEMO_MODE=True)
def test_seed_demo_is_idempotent():
    call_command("seed_demo", "--no-referrals")
    first = snapshot()
    call_command("seed_demo", "--no-referrals")
    assert snapshot() == first


@override_settings(MNR_DEMO_MODE=True)
def test_seed_demo_matches_design():
    call_command("seed_demo", "--no-referrals")
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {u["username"]: u["role"] for u in demo.USERS}
    assert roles["asso.paris.manager"] == "manager"
    for username in roles:
        assert User.objects.get(username=username).check_password("demo-mnr-2026")

    paris = Agency.objects.get(memberships__user__username="asso.paris")
    acc = paris.accreditations.get()
    assert sorted(d.code for d in acc.departements.all()) == [
        "75",
        "77",
        "78",
        "91",
        "92",
        "93",
        "94",
        "95",
    ]
    assert set(acc.publics) == {"adult_women", "adult_men"}
    assert set(acc.exploitation_forms) == {
        "sexual_exploitation",
        "labour_exploitation",
        "domestic_servitude",
    }
    minors = Agency.objects.get(memberships__user__username="asso.mineurs13")
    assert minors.departement_id == "13"
    assert minors.accreditations.get().publics == ["minors"]
    assert minors.accreditations.get().national
    national = Agency.objects.get(memberships__user__username="asso.national").accreditations.get()
    assert national.national and national.secure_relocation
    assert Agency.objects.filter(kind="child_protection", departement="93").exists()
    assert {a.sector: a.departement_id for a in Agency.objects.filter(kind="frontline")} == {
        "police": "75",
        "education": "93",
        "health": "69",
    }
    assert User.objects.get(username="admin").is_staff
    units = dict(
        Agency.objects.filter(kind="identification_unit").values_list("name", "departement")
    )
    assert units == {
        "Cellule nationale d'identification des victimes de la traite": None,
        "Cellule régionale d'identification Île-de-France": "75",
    }
    trained = dict(
        Membership.objects.filter(role="decision_maker").values_list(
            "user__username", "children_trained"
        )
    )
    assert trained == {
        "identification.idf": False,
        "identification.idf.mineurs": True,
        "identification.national": False,
        "identification.national.mineurs": True,
    }
    trained_user = User.objects.get(username="identification.idf.mineurs")
    assert trained_user.groups.filter(name__endswith=":children").count() == 1
    assert (
        not User.objects.get(username="identification.idf")
        .groups.filter(name__endswith=":children")
        .exists()
    )


@override_settings(MNR_DEMO_MODE=True)
def test_seed_demo_repairs_a_lost_training_for_children():
    from agencies import services

    call_command("seed_demo", "--no-referrals")
    user = User.objects.get(username="identification.national.mineurs")
    services.membership_set(
        actor=None,
        user=user,
        agency=user.membership.agency,
        role="decision_maker",
        children_trained=False,
    )
    call_command("seed_demo", "--no-referrals")
    user = User.objects.get(username="identification.national.mineurs")
    assert user.membership.children_trained
    assert user.groups.filter(name__endswith=":children").exists()


@override_settings(MNR_DEMO_MODE=True)
def test_seed_demo_repairs_a_changed_password():
    call_command("seed_demo", "--no-referrals")
    user = User.objects.get(username="asso.paris")
    user.set_password("something-else-entirely")
    user.save()
    call_command("seed_demo", "--no-referrals")
    user.refresh_from_db()
    assert user.check_password("demo-mnr-2026")


@override_settings(MNR_DEMO_MODE=False, DEBUG=False)
def test_seed_demo_refused_outside_demo_mode():
    with pytest.raises(CommandError, match="MNR_DEMO_MODE"):
        call_command("seed_demo", "--no-referrals")
    assert not User.objects.exists()


@override_settings(MNR_DEMO_MODE=True)
def test_seed_demo_adds_synthetic_referrals_once_with_a_realistic_mix():
    from referral.models import Referral

    call_command("seed_demo", "--referrals", "60")
    first = snapshot()
    referrals = Referral.objects.select_related("person")
    assert referrals.count() == 60
    statuses = {r.status for r in referrals}
    assert {"accepted", "notified"} <= statuses
    assert len({f for r in referrals for f in r.exploitation_forms}) >= 4
    assert {r.person.sex for r in referrals} >= {"female", "male"}
    assert any(r.person.presumed_minor for r in referrals)
    assert any(not r.person.presumed_minor for r in referrals)
    assert len({r.person.nationality for r in referrals}) >= 5
    years = {r.submitted_at.year for r in referrals}
    assert len(years) >= 3
    from cases.models import Case, CaseNote, ProtectionStep

    assert {c.status for c in Case.objects.all()} == {"open", "closed"}
    assert ProtectionStep.objects.filter(status="done").exists()
    assert ProtectionStep.objects.filter(status="planned").exists()
    assert CaseNote.objects.exists()
    call_command("seed_demo", "--referrals", "60")
    assert snapshot() == first


@override_settings(MNR_DEMO_MODE=True)
def test_seed_demo_leaves_identification_files_in_every_status_within_their_deadlines():
    """Every status is there, even in a small seed; nothing waiting is overdue,
    and the grants are what the process expects (issue 15)."""
    from django.utils import timezone

    from identification import grant_check
    from identification.models import PENDING, Decision, Identification, Reconsideration
    from referral.models import Routing

    call_command("seed_demo", "--referrals", "40")
    files = Identification.objects.all()
    assert set(files.values_list("status", flat=True)) == set(Identification.Status.values)
    now = timezone.now()
    assert not files.filter(status__in=list(PENDING), decide_by__lt=now).exists()
    assert not files.filter(escalated_at__isnull=False).exists()
    assert not Routing.objects.filter(outcome="pending", respond_by__lt=now).exists()
    presumed = files.filter(status="presumed", recovery_ends_on__gt=now.date())
    assert presumed.exists()  # a recovery period running
    # Reconsiderations are decided by another member of the unit.
    for request in Reconsideration.objects.all():
        first = Decision.objects.filter(
            identification=request.identification, stage=request.stage, reconsideration=False
        ).get()
        again = Decision.objects.filter(
            identification=request.identification, stage=request.stage, reconsideration=True
        ).first()
        assert again is None or again.decided_by_id != first.decided_by_id
    # The formal stage is asked for after the recovery period only.
    for identification in files.filter(evidence_submitted_at__isnull=False):
        submitted = timezone.localdate(identification.evidence_submitted_at)
        assert submitted >= identification.recovery_ends_on
    assert list(grant_check.grant_problems()) == []
