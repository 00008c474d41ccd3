"""Sharing a case for a purpose (issue 12): read-only, on the parts shared,
until a date, revocable, expiring by itself, every read logged, refused for
analysts and the referral's own author. Through the HTTP API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from agencies.services import membership_set
from audit.models import AccessLog
from cases.models import CaseShare, CaseUserObjectPermission
from cases.services import shares_expire
from cases.tasks import expire_case_shares
from tests.cases.conftest import MINOR_BODY, accept
from tests.web.association.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def minor_case(api, world) -> str:
    case = accept(api, world, MINOR_BODY, world.minors_worker)
    api.post(
        world.minors_worker, f"/api/v1/cases/{case['reference']}/notes/", {"text": "Confidentiel"}
    )
    return case["reference"]


def share(api, world, ref, **changes):
    actor = changes.pop("actor", world.minors_worker)
    data = {
        "grantee": world.crip_referrer.username,
        "purpose": "child_protection",
        "purpose_detail": "Évaluation de la situation",
        "parts": ["profile", "plan"],
        "until": str(timezone.localdate() + timedelta(days=30)),
        **changes,
    }
    return api.post(actor, f"/api/v1/cases/{ref}/shares/", data)


def test_the_crip_officer_reads_the_parts_shared_and_every_read_is_logged(
    api, world, minor_case, capsys
):
    r = share(api, world, minor_case)
    assert r.status_code == 201, r.content
    assert r.json()["parts"] == ["plan", "profile"] and r.json()["grantee"] == (
        world.crip_referrer.username
    )
    listed = api.get(world.crip_referrer, "/api/v1/shared-cases/").json()
    assert [row["case"] for row in listed] == [minor_case]
    for _ in range(2):
        got = api.get(world.crip_referrer, f"/api/v1/shared-cases/{minor_case}/")
        assert got.status_code == 200
    body = got.json()
    assert body["person"]["given_name"] and body["steps"]
    assert body["notes"] is None  # not shared
    assert (
        AccessLog.objects.filter(
            action="case.shared_view", actor=world.crip_referrer, target_id=minor_case
        ).count()
        == 2
    )
    # Read-only, and nothing beyond the share: not the case itself, no writes.
    assert api.get(world.crip_referrer, f"/api/v1/cases/{minor_case}/").status_code == 404
    note = api.post(world.crip_referrer, f"/api/v1/cases/{minor_case}/notes/", {"text": "x"})
    assert note.status_code == 404
    # Shown to the owning association; logged when given.
    shares = api.get(world.minors_worker, f"/api/v1/cases/{minor_case}/shares/").json()
    assert [s["grantee"] for s in shares] == [world.crip_referrer.username]
    assert AccessLog.objects.filter(action="case.shared", target_id=minor_case).exists()
    call_command("check_grants")
    assert "All grants agree" in capsys.readouterr().out


def test_notes_are_shared_only_when_asked(api, world, minor_case):
    share(api, world, minor_case, parts=["notes"])
    body = api.get(world.crip_referrer, f"/api/v1/shared-cases/{minor_case}/").json()
    assert body["person"] is None and body["steps"] is None
    assert [n["text"] for n in body["notes"]] == ["Confidentiel"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"grantee": "nobody-has-this-name"}, "grantee"),
        ({"purpose": "curiosity"}, "purpose"),
        ({"purpose_detail": ""}, "purpose_detail"),
        ({"parts": []}, "parts"),
        ({"parts": ["narrative"]}, "parts"),
        ({"parts": ["profile"] * 50}, "parts"),
        ({"until": "2000-01-01"}, "until"),
        ({"until": str(timezone.localdate() + timedelta(days=400))}, "until"),
        ({"until": "tomorrow"}, "until"),
    ],
)
def test_bad_shares_are_refused_with_the_field(api, world, minor_case, changes, field):
    r = share(api, world, minor_case, **changes)
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]
    assert not CaseShare.objects.exists() and not CaseUserObjectPermission.objects.exists()


@pytest.mark.parametrize("who", ["analyst", "admin", "referrer", "minors_worker"])
def test_never_shared_with_analysts_admins_its_author_or_its_own_staff(api, world, minor_case, who):
    r = share(api, world, minor_case, grantee=getattr(world, who).username)
    assert r.status_code == 400 and "grantee" in r.json()["error"]["fields"]
    assert not CaseShare.objects.exists()


@pytest.mark.parametrize("who", ["paris_worker", "crip_referrer", "coordinator", "referrer"])
def test_only_the_owning_association_shares(api, world, minor_case, who):
    r = share(
        api, world, minor_case, actor=getattr(world, who), grantee=world.other_referrer.username
    )
    assert r.status_code == 404
    assert not CaseShare.objects.exists()


def test_ending_a_share_ends_the_reads(api, world, minor_case):
    share_id = share(api, world, minor_case).json()["id"]
    url = f"/api/v1/cases/{minor_case}/shares/{share_id}/end/"
    assert api.post(world.paris_worker, url).status_code == 404  # not theirs
    r = api.post(world.minors_worker, url)
    assert r.status_code == 200 and r.json()["end_reason"] == "revoked"
    assert api.post(world.minors_worker, url).status_code == 409
    assert api.get(world.crip_referrer, f"/api/v1/shared-cases/{minor_case}/").status_code == 404
    assert api.get(world.crip_referrer, "/api/v1/shared-cases/").json() == []
    assert not CaseUserObjectPermission.objects.exists()
    # It can be shared again afterwards.
    assert share(api, world, minor_case).status_code == 201


def test_a_share_expires_at_its_date_and_the_task_ends_its_grants(api, world, minor_case, capsys):
    share(api, world, minor_case, until=str(timezone.localdate()))
    assert api.get(world.crip_referrer, f"/api/v1/shared-cases/{minor_case}/").status_code == 200
    # The day after: reads stop at once, before the periodic task runs.
    CaseShare.objects.update(until=timezone.localdate() - timedelta(days=1))
    assert api.get(world.crip_referrer, f"/api/v1/shared-cases/{minor_case}/").status_code == 404
    assert expire_case_shares.apply().get() == 1
    assert shares_expire() == 0  # idempotent
    ended = CaseShare.objects.get()
    assert ended.end_reason == "expired" and ended.ended_at is not None
    assert not CaseUserObjectPermission.objects.exists()
    assert AccessLog.objects.filter(action="case.share_ended", target_id=minor_case).exists()
    call_command("check_grants")
    assert "All grants agree" in capsys.readouterr().out


def test_a_share_ends_when_the_grantee_moves(api, world, minor_case):
    share(api, world, minor_case)
    membership_set(
        actor=world.admin, user=world.crip_referrer, agency=world.police, role="referrer"
    )
    assert CaseShare.objects.get().end_reason == "access_ended"
    assert api.get(world.crip_referrer, f"/api/v1/shared-cases/{minor_case}/").status_code == 404


def test_a_transfer_ends_the_shares(api, world, minor_case):
    share(api, world, minor_case)
    r = api.post(
        world.minors_worker,
        f"/api/v1/cases/{minor_case}/transfer/",
        {"to_association": world.national.pk, "reason": "Relogement"},
    )
    assert r.status_code == 201, r.content
    api.post(world.national_worker, f"/api/v1/transfers/{r.json()['id']}/accept/")
    assert CaseShare.objects.get().end_reason == "case_moved"
    assert api.get(world.crip_referrer, f"/api/v1/shared-cases/{minor_case}/").status_code == 404


def test_the_timeline_tells_the_share_and_its_end(api, world, minor_case):
    share_id = share(api, world, minor_case).json()["id"]
    api.post(world.minors_worker, f"/api/v1/cases/{minor_case}/shares/{share_id}/end/")
    events = api.get(world.minors_worker, f"/api/v1/cases/{minor_case}/timeline/").json()["events"]
    shared = [e for e in events if e["event"] in ("case_shared", "share_ended")]
    assert [e["event"] for e in shared] == ["case_shared", "share_ended"]
    assert world.crip93.name in shared[0]["text"]


def test_the_pages_share_show_and_end(api, world, minor_case):
    client = client_for(world.minors_worker)
    page = client.get(f"/cases/{minor_case}/")
    assert page.status_code == 200 and b'id="share-form"' in page.content
    until = str(timezone.localdate() + timedelta(days=10))
    bad = client.post(
        f"/cases/{minor_case}/share/",
        {
            "share-grantee": world.analyst.username,
            "share-purpose": "legal",
            "share-purpose_detail": "Conseil",
            "share-parts": ["profile"],
            "share-until": until,
        },
    )
    assert bad.status_code == 200 and not CaseShare.objects.exists()
    assert "A case is not shared with analysts" in bad.content.decode()
    r = client.post(
        f"/cases/{minor_case}/share/",
        {
            "share-grantee": world.crip_referrer.username,
            "share-purpose": "child_protection",
            "share-purpose_detail": "Évaluation",
            "share-parts": ["profile"],
            "share-until": until,
        },
    )
    assert r.status_code == 302
    assert world.crip_referrer.username in client.get(f"/cases/{minor_case}/").content.decode()

    client = client_for(world.crip_referrer)
    listing = client.get("/shared-cases/")
    assert minor_case in listing.content.decode()
    detail = client.get(f"/shared-cases/{minor_case}/")
    assert detail.status_code == 200 and b'id="share-notice"' in detail.content
    assert b'id="shared-steps"' not in detail.content  # the plan was not shared
    assert client.get(f"/cases/{minor_case}/").status_code in (403, 404)

    worker = client_for(world.minors_worker)
    share_id = CaseShare.objects.get().pk
    assert worker.post(f"/cases/{minor_case}/shares/{share_id}/end/").status_code == 302
    assert client.get(f"/shared-cases/{minor_case}/").status_code == 404
