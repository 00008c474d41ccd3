"""Fixtures of the association page tests: the referral world (tests/referral)
and an open case (tests/cases), plus a signed-in client per user."""

from __future__ import annotations

import pytest
from django.test import Client

from referral.models import Routing, RoutingOutcome
from tests.cases.conftest import open_case
from tests.helpers import login_with_second_factor
from tests.referral.conftest import ADULT_BODY, api, world

__all__ = ["api", "client_for", "open_case", "pending", "world"]


def client_for(user, **kwargs) -> Client:
    """A test client signed in as ``user`` with the second factor (English)."""
    client = Client(SERVER_NAME="localhost", HTTP_ACCEPT_LANGUAGE="en", **kwargs)
    login_with_second_factor(client, user)
    return client


@pytest.fixture
def pending(api, world):
    """An adult's referral routed to the Paris association, waiting for an answer."""
    api.submitted(world.referrer, ADULT_BODY)
    return Routing.objects.get(association=world.paris, outcome=RoutingOutcome.PENDING)
