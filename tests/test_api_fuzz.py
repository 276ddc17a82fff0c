"""Schemathesis against the OpenAPI description: whatever it sends (wrong types, broken JSON,
huge or odd strings), the API answers with a 4xx and a message, never a 500. It runs on a
database of its own: the fuzzer creates, changes and archives records at random."""
from __future__ import annotations


import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app.extensions import db

from .conftest import DATABASES, provision, release


@pytest.fixture(scope="module", params=DATABASES)
def fuzz_app(request):
    app = provision(request.param, "fuzz")
    yield app
    release(app)


@pytest.fixture(scope="module")
def bearer(fuzz_app):
    from flask_jwt_extended import create_access_token

    from app.models import User
    from app.security.sessions import open_api_session

    with fuzz_app.test_request_context():
        user = db.session.query(User).filter_by(username="admin").one()
        token = create_access_token(identity=str(user.id), additional_claims={"sid": open_api_session(user.id)})
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def api_schema(fuzz_app, bearer):
    return schemathesis.openapi.from_wsgi("/api/v1/_openapi", fuzz_app, headers=bearer)


def test_no_input_makes_the_api_fail(api_schema, bearer):
    """Every operation of the description, a dozen generated cases each (schemathesis' strategies
    driven by Hypothesis directly: its pytest plugin does not load fixtures parametrized by
    database)."""
    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call(headers=bearer)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")
            elif response.status_code >= 400 and response.headers.get("Content-Type", "").startswith("application/json"):
                body = response.json()
                if not isinstance(body, dict) or not ({"message", "msg"} & set(body)):
                    failures.append(f"{case.method} {case.formatted_path}: {response.status_code} without a message")

        check()
    assert operations >= 15
    assert not failures, "\n".join(sorted(set(failures))[:20])
