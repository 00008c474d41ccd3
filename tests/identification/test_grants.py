"""The unit's access comes from its grants only, follows the people's
training and membership, and drift is reported."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from agencies import services as agency_services
from identification import grants
from identification.models import IdentificationGroupObjectPermission
from tests.identification.conftest import MINOR_BODY, file_url
from tests.identification.test_api import NEGATIVE, ref, routed

pytestmark = pytest.mark.django_db


def test_training_and_membership_decide_access_to_a_minors_file(api, world, units):
    identification = routed(api, world, MINOR_BODY)
    url = file_url(ref(identification))
    assert api.get(units.idf_child_dm, url).status_code == 200
    agency_services.membership_set(
        actor=None,
        user=units.idf_child_dm,
        agency=units.idf,
        role="decision_maker",
        children_trained=False,
    )
    assert api.get(units.idf_child_dm, url).status_code == 404
    agency_services.membership_set(
        actor=None,
        user=units.idf_dm,
        agency=units.idf,
        role="decision_maker",
        children_trained=True,
    )
    assert api.get(units.idf_dm, url).status_code == 200
    # Moving to another unit ends it.
    agency_services.membership_set(
        actor=None, user=units.idf_dm, agency=units.occitanie, role="decision_maker"
    )
    assert api.get(units.idf_dm, url).status_code == 404
    call_command("check_grants")  # nothing drifted


def test_check_grants_reports_a_file_granted_without_a_reason(api, world, units, capsys):
    identification = routed(api, world)
    api.post(units.idf_dm, file_url(ref(identification), "decide/"), NEGATIVE)
    api.post(
        world.paris_worker, file_url(ref(identification), "reconsider/"), {"new_elements": "x"}
    )
    api.post(units.idf_dm2, file_url(ref(identification), "decide/"), NEGATIVE)  # final
    call_command("check_grants")
    assert not IdentificationGroupObjectPermission.objects.filter(
        content_object=identification
    ).exists()
    grants.grant_unit(identification=identification)  # a grant nobody should hold
    with pytest.raises(CommandError):
        call_command("check_grants")
    assert "without a reason" in capsys.readouterr().out
