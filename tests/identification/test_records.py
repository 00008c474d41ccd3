"""The identification file in the person's access export and in retention."""

from __future__ import annotations

import pytest

from tests.identification.conftest import file_url
from tests.identification.test_api import NEGATIVE, accepted_case, ref, routed

pytestmark = pytest.mark.django_db


def test_the_access_export_holds_the_file_its_decisions_and_their_history(api, world, units):
    identification = routed(api, world)
    reference = ref(identification)
    case = accepted_case(api, world, world.paris_worker)
    api.post(
        world.paris_worker,
        file_url(reference, "evidence/"),
        {"section": "first_assessment", "text": "Première évaluation."},
    )
    assert api.post(units.idf_dm, file_url(reference, "decide/"), NEGATIVE).status_code == 200
    api.get(units.idf_dm, file_url(reference))
    r = api.get(world.paris_manager, f"/api/v1/cases/{case.reference}/export/")
    assert r.status_code == 200, r.content
    data = r.json()
    file = data["identification"]
    assert file["status"] == "not_presumed" and file["unit"] == units.idf.name
    decision = file["decisions"][0]
    assert decision["outcome"] == "negative" and decision["reasons"] == ["no_exploitation"]
    assert decision["explanation"]["review"] is True  # free text, to read before handing over
    assert "$.identification.decisions[0].explanation" in data["review"]
    assert file["evidence"][0]["text"]["text"] == "Première évaluation."
    models = {row["model"] for row in data["history"]}
    assert {"identification", "identification_decision", "identification_evidence"} <= models
    # The unit's reads of the file are in the person's access log.
    assert any(
        e["action"] == "identification.view" and e["target"] == reference
        for e in data["access_log"]
    )


def test_the_case_timeline_shows_the_stages_without_their_content(api, world, units):
    identification = routed(api, world)
    case = accepted_case(api, world, world.paris_worker)
    api.post(units.idf_dm, file_url(ref(identification), "decide/"), NEGATIVE)
    r = api.get(world.paris_worker, f"/api/v1/cases/{case.reference}/timeline/")
    assert r.status_code == 200, r.content
    events = [e["event"] for e in r.json()["events"]]
    assert "identification_opened" in events and "identification_not_presumed" in events
    assert "Aucun élément" not in r.content.decode()  # the explanation is not in it
