"""The access log keeps no text a person typed in clear: filters typed into the
log's own search, and reasons, are kept only as what exists, a keyed hash, or
ciphertext that its readers see decrypted."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from audit.models import AccessAction, AccessLog
from tests.privacy.conftest import api, world  # noqa: F401

pytestmark = pytest.mark.django_db

NAME = "Zephyrine Quaglietti"


def test_a_name_typed_into_the_log_search_is_not_kept(api, world):  # noqa: F811
    url = "/api/v1/audit/access-log/"
    assert api.get(world.admin, url, data={"actor": NAME}).status_code == 200
    assert api.get(world.admin, url, data={"target_id": NAME}).status_code == 200
    assert api.get(world.admin, url, data={"target_type": NAME}).status_code == 200
    known = api.get(
        world.admin, url, data={"actor": world.referrer.username, "target_id": "MNR-2026-000001"}
    )
    assert known.status_code == 200
    reads = list(AccessLog.objects.filter(action=AccessAction.AUDIT_VIEW).order_by("pk"))
    assert len(reads) == 4
    assert "Zephyrine" not in str([e.payload() for e in reads])
    assert reads[0].detail["actor"].startswith("unknown:")
    assert reads[1].detail == {"target_id": "(typed text, not kept)"}
    assert reads[2].detail == {"target_type": "(typed text, not kept)"}
    assert reads[3].detail == {"actor": world.referrer.username, "target_id": "MNR-2026-000001"}


def test_a_typed_reason_is_ciphertext_in_the_log_and_text_for_its_reader(api, world):  # noqa: F811
    call_command("reset_two_factor", world.paris_worker.username, "--reason", f"Appel de {NAME}")
    entry = AccessLog.objects.get(action=AccessAction.TWO_FACTOR_RESET)
    assert "Zephyrine" not in str(entry.payload())
    shown = api.get(world.admin, "/api/v1/audit/access-log/?action=auth.2fa_reset").json()
    assert [e["detail"]["reason"] for e in shown["results"]] == [f"Appel de {NAME}"]
