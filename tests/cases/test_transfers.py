"""Transfers between associations: request, accept (ownership and grants move in
one transaction), reject, refusals, and two receivers accepting at once."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection

from cases import services
from cases.models import Case, Transfer

pytestmark = pytest.mark.django_db


def request_transfer(api, world, case, reason="Éloignement sécurisé"):
    return api.post(
        world.paris_worker,
        f"/api/v1/cases/{case.reference}/transfer/",
        {"to_association": world.national.pk, "reason": reason},
    )


def test_transfer_accepted_moves_the_case(api, world, open_case, capsys):
    r = request_transfer(api, world, open_case)
    assert r.status_code == 201, r.content
    transfer = r.json()
    assert transfer["status"] == "pending" and transfer["to_association"]["id"] == world.national.pk
    assert "Okafor" not in str(transfer)  # the receiver sees a summary, not the file
    # The receiver cannot see the case before accepting.
    assert (
        api.get(world.national_worker, f"/api/v1/cases/{open_case.reference}/").status_code == 404
    )
    incoming = api.get(
        world.national_worker, "/api/v1/transfers/?direction=in&status=pending"
    ).json()
    assert [t["id"] for t in incoming["results"]] == [transfer["id"]]
    outgoing = api.get(world.paris_manager, "/api/v1/transfers/?direction=out").json()
    assert outgoing["count"] == 1
    # The sender cannot accept its own transfer; others do not see it.
    assert (
        api.post(world.paris_worker, f"/api/v1/transfers/{transfer['id']}/accept/").status_code
        == 403
    )
    for who in ("minors_worker", "referrer", "coordinator", "analyst"):
        r = api.post(getattr(world, who), f"/api/v1/transfers/{transfer['id']}/accept/")
        assert r.status_code == 404, who

    r = api.post(world.national_worker, f"/api/v1/transfers/{transfer['id']}/accept/")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    case = Case.objects.get(pk=open_case.pk)
    assert case.association == world.national and case.assigned_to == world.national_worker
    assert api.get(world.paris_worker, f"/api/v1/cases/{case.reference}/").status_code == 404
    assert api.get(world.paris_worker, f"/api/v1/referrals/{case.reference}/").status_code == 404
    detail = api.get(world.national_worker, f"/api/v1/cases/{case.reference}/")
    assert detail.status_code == 200 and detail.json()["person"]["family_name"] == "Okafor"
    assert api.get(world.national_worker, f"/api/v1/referrals/{case.reference}/").status_code == 200
    # History keeps both owners.
    owners = [h.association_id for h in case.history.order_by("history_id")]
    assert owners[0] == world.paris.pk and owners[-1] == world.national.pk
    call_command("check_grants")
    assert "All grants agree" in capsys.readouterr().out
    again = api.post(world.national_worker, f"/api/v1/transfers/{transfer['id']}/accept/")
    assert again.status_code == 409


def test_transfer_rejected_leaves_the_case(api, world, open_case):
    transfer = request_transfer(api, world, open_case).json()
    r = api.post(
        world.national_worker, f"/api/v1/transfers/{transfer['id']}/reject/", {"reason": "Complet"}
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["decision_reason"] == "Complet"
    assert Case.objects.get(pk=open_case.pk).association == world.paris
    assert api.get(world.paris_worker, f"/api/v1/cases/{open_case.reference}/").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"to_association": "paris", "reason": "x"}, "to_association"),
        ({"reason": "x"}, "to_association"),
        ({"to_association": 10**9, "reason": "x"}, "to_association"),
        ({"to_association": "SELF", "reason": "x"}, "to_association"),
        ({"to_association": "POLICE", "reason": "x"}, "to_association"),
        ({"to_association": "NATIONAL", "reason": ""}, "reason"),
    ],
)
def test_bad_transfer_request_is_400(api, world, open_case, data, field):
    ids = {"SELF": world.paris.pk, "POLICE": world.police.pk, "NATIONAL": world.national.pk}
    data = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    r = api.post(world.paris_worker, f"/api/v1/cases/{open_case.reference}/transfer/", data)
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]
    assert not Transfer.objects.exists()


def test_one_pending_transfer_and_no_closure_meanwhile(api, world, open_case):
    assert request_transfer(api, world, open_case).status_code == 201
    assert request_transfer(api, world, open_case).status_code == 409
    tag = api.get(world.paris_worker, f"/api/v1/cases/{open_case.reference}/").headers["ETag"]
    r = api.post(
        world.paris_worker,
        f"/api/v1/cases/{open_case.reference}/close/",
        {"reason": "duplicate"},
        HTTP_IF_MATCH=tag,
    )
    assert r.status_code == 409


@pytest.mark.django_db(transaction=True)
def test_two_receivers_accepting_at_once_yield_one_outcome(postgres, api, world, open_case):
    transfer = services.transfer_request(
        case_id=open_case.pk,
        actor=world.paris_worker,
        to_association_id=world.national.pk,
        reason="Éloignement",
    )
    from tests.factories import UserFactory

    second = UserFactory(membership_agency=world.national, membership_role="manager")
    actors = [world.national_worker, second]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = services.transfer_accept(transfer_id=transfer.pk, actor=actors[i])
        except Exception as exc:  # collected for the assertion
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    outcomes = sorted(type(r).__name__ for r in results)
    assert outcomes == ["InvalidTransition", "Transfer"], results
    case = Case.objects.get(pk=open_case.pk)
    assert case.association == world.national
    assert Transfer.objects.get().status == "accepted"
    assert case.version == 2  # moved exactly once
