"""Health and the published API description: OpenAPI 3 with every /api/v1 path and bearer auth."""

import re

import pytest
from sqlalchemy.exc import OperationalError

from ipt_groups.extensions import db


def test_healthz_answers_without_a_token(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json == {
        "status": "ok",
        "safety": {"undelivered": 0, "retrying": 0, "nobody_told": 0},
        "webhooks": {"signed_for_another_url": 0},
    }


def test_healthz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(db.session, "execute", broken)
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json["status"] == "unavailable"


@pytest.fixture
def spec(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    return r.json


def test_spec_is_openapi_3_with_bearer_auth(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]


def test_spec_has_every_api_path_and_method(app, spec):
    served = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {
        (path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"
    }
    assert served and served == described


def test_spec_describes_the_csv_import(spec):
    content = spec["paths"]["/api/v1/members/import"]["post"]["requestBody"]["content"]
    assert set(content) == {"text/csv", "multipart/form-data"}


def test_docs_answer_without_a_token(client):
    r = client.get("/api/docs")
    assert r.status_code == 200 and b"swagger" in r.data.lower()
