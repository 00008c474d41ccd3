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
