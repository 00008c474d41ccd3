"""Real concurrency on PostgreSQL: row locks and constraints, not luck."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from cases.models import Case
from common.errors import InvalidTransition
from referral import services
from referral.models import Referral, Routing

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def runner(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def adult_input(i: int) -> services.ReferralInput:
    return services.ReferralInput(
        exploitation_forms=["labour_exploitation"],
        consent_to_referral=True,
        exploitation_departement="75",
        person=services.PersonInput(given_name=f"P{i}", family_name="Test", sex="male"),
    )


def test_simultaneous_submissions_get_distinct_sequential_references(postgres, world):
    results = run_at_once(
        8, lambda i: services.referral_submit(actor=world.referrer, data=adult_input(i))
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    refs = sorted(r[0].reference for r in results)
    assert len(set(refs)) == 8
    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in refs)
    assert numbers == list(range(numbers[0], numbers[0] + 8))
    assert Referral.objects.count() == 8


def test_same_idempotency_key_at_once_makes_one_referral(postgres, world):
    results = run_at_once(
        4,
        lambda i: services.referral_submit(
            actor=world.referrer, data=adult_input(0), idempotency_key="same-key"
        ),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert len({r[0].pk for r in results}) == 1
    assert Referral.objects.count() == 1


def test_two_caseworkers_accepting_at_once_open_one_case(postgres, world):
    referral, _ = services.referral_submit(actor=world.referrer, data=adult_input(0))
    services.referral_route(referral_id=referral.pk)
    routing = Routing.objects.get(referral=referral, outcome="pending")
    workers = [world.paris_worker, world.paris_manager]
    results = run_at_once(
        2, lambda i: services.routing_accept(routing_id=routing.pk, actor=workers[i])
    )
    cases = [r for r in results if isinstance(r, Case)]
    refusals = [r for r in results if isinstance(r, InvalidTransition)]
    assert len(cases) == 1 and len(refusals) == 1, results
    assert Case.objects.filter(referral=referral).count() == 1
    referral.refresh_from_db()
    assert referral.status == "accepted"
