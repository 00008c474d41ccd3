"""Bad input on the pages answers 4xx, never 500, and writes nothing (issue 12,
point 7): a NUL byte in a reference (PostgreSQL text cannot hold one) or in a
query parameter."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from cases.models import Case
from referral.models import Referral
from tests.referral.conftest import api, world
from tests.web.association.conftest import client_for, open_case

__all__ = ["api", "open_case", "world"]

pytestmark = pytest.mark.django_db

PAGES = [
    ("get", "paris_worker", "/cases/{ref}/"),
    ("get", "paris_worker", "/cases/{ref}/timeline/"),
    ("post", "paris_worker", "/cases/{ref}/steps/"),
    ("post", "paris_worker", "/cases/{ref}/steps/1/"),
    ("post", "paris_worker", "/cases/{ref}/notes/"),
    ("post", "paris_worker", "/cases/{ref}/assign/"),
    ("post", "paris_worker", "/cases/{ref}/transfer/"),
    ("post", "paris_worker", "/cases/{ref}/close/"),
    ("post", "paris_worker", "/cases/{ref}/reopen/"),
    ("get", "referrer", "/referrals/{ref}/"),
    ("get", "referrer", "/referrals/{ref}/submitted/"),
    ("post", "referrer", "/referrals/{ref}/withdraw/"),
    ("get", "coordinator", "/escalations/{ref}/assign/"),
    ("post", "coordinator", "/escalations/{ref}/assign/"),
]


def written() -> tuple[int, int, int]:
    return Referral.objects.count(), Case.objects.count(), AccessLog.objects.count()


@pytest.mark.parametrize("ref", ["%00", "MNR-2026-%00", "%00MNR-2026-000001"])
@pytest.mark.parametrize(("method", "who", "url"), PAGES)
def test_a_nul_byte_in_a_page_reference_is_not_found(postgres, world, method, who, url, ref):
    client = client_for(getattr(world, who))
    before = written()
    r = getattr(client, method)(url.format(ref=ref))
    assert r.status_code in (400, 404), r.content[:300]
    assert written() == before


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("paris_worker", "/cases/?assigned_to=%00"),
        ("paris_worker", "/cases/?status=%00&page=%00"),
        ("paris_worker", "/inbox/?page=%00"),
        ("referrer", "/referrals/?status=%00"),
        ("referrer", "/referrals/?page=%00"),
        ("coordinator", "/escalations/?page=%00"),
        ("analyst", "/statistics/?by=%00"),
        ("analyst", "/statistics/?by=sex&sex=%00"),
        ("analyst", "/statistics/?by=sex&period=%00"),
        ("analyst", "/statistics/export.csv?by=sex&sex=%00"),
    ],
)
def test_a_nul_byte_in_a_page_query_is_no_server_error(postgres, world, open_case, who, url):
    r = client_for(getattr(world, who)).get(url)
    assert r.status_code < 500, r.content[:300]
    assert r.status_code in (200, 400), r.status_code


@pytest.mark.parametrize("url", ["/sign-in/?next=%00", "/sign-in/?next=/cases/%00/"])
def test_a_nul_byte_in_the_sign_in_redirect_is_no_server_error(postgres, client, url):
    assert client.get(url).status_code == 200
