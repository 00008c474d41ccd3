from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from guardian.shortcuts import assign_perm, remove_perm

from referral.models import Referral
from tests.referral.conftest import ADULT_BODY, MINOR_BODY

pytestmark = pytest.mark.django_db


def test_grants_agree_after_a_full_workflow(api, world, capsys):
    api.submitted(world.referrer, ADULT_BODY)
    api.submitted(world.referrer, MINOR_BODY)
    routing = api.pending_routing(world.paris_worker)
    api.post(world.paris_worker, f"/api/v1/routings/{routing['id']}/decline/", {"reason": "x"})
    routing = api.pending_routing(world.minors_worker)
    api.post(world.minors_worker, f"/api/v1/routings/{routing['id']}/accept/")
    call_command("check_grants")
    assert "All grants agree" in capsys.readouterr().out


def test_stray_and_missing_grants_are_reported(api, world, capsys):
    ref = api.submitted(world.referrer, ADULT_BODY)["reference"]
    referral = Referral.objects.get(reference=ref)
    assign_perm("referral.view_referral", world.national.group, referral)
    assign_perm("referral.view_referral", world.other_referrer, referral)
    remove_perm("referral.respond_referral", world.paris.group, referral)
    with pytest.raises(CommandError, match="3 grant"):
        call_command("check_grants")
    out = capsys.readouterr().out
    assert f"group {world.national.group_id} holds view_referral without a reason" in out
    assert f"user {world.other_referrer.pk} holds view_referral but is not its author" in out
    assert f"group {world.paris.group_id} lacks respond_referral" in out
