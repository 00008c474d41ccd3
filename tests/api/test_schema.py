from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    # --fail-on-warn turns every drf-spectacular warning or error into a failure.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/agencies/",
        "/api/v1/reference/departements/",
        "/api/v1/reference/exploitation-forms/",
    ):
        assert path in text


@pytest.mark.django_db
def test_schema_and_docs_are_served(api_client):
    assert api_client.get("/api/v1/schema/").status_code == 200
    docs = api_client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


@pytest.mark.django_db
def test_every_operation_is_described_and_documents_its_401():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        (method, path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]
    assert len(operations) >= 40
    for method, path, op in operations:
        assert op.get("description"), (method, path)
        if path not in ("/api/v1/auth/token/", "/api/v1/schema/", "/api/v1/docs/"):
            assert "401" in op["responses"], (method, path)


@pytest.mark.django_db
def test_every_operation_documents_the_errors_its_input_can_cause():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            where = {p["in"] for p in op.get("parameters", [])}
            assert "429" in codes, (method, path)
            if "requestBody" in op:
                assert {"400", "413", "415"} <= codes, (method, path)
            if "query" in where:
                assert "400" in codes, (method, path)
            if "path" in where:
                assert "404" in codes, (method, path)
