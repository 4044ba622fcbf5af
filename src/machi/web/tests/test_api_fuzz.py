"""The whole API under schemathesis (every check), in process on the test databases.

Each operation of ``/api/v1/openapi.json`` gets its examples, the coverage phase
(boundaries, wrong types, missing parameters: negative data) and fuzzing, with a real
API client token of municipality A holding every scope; the anonymous operations
(health, navigator) are exercised the same way. Every check is on: no server error, no
undocumented status or content type, responses as declared, negative data rejected,
schema-valid data accepted (or refused with a documented 400/422 for what no schema
states), auth enforced, unsupported methods refused. The run is
derandomised and bounded (``MAX_EXAMPLES`` per operation) so CI sees the same cases.

``lg_code`` is fixed to A: generated codes would only ever reach the middleware's 404.
The life-events intake is for signed-in staff only, so with a token it is exercised
for its refusals (401/403), not its body.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from machi.tenancy.context import tenant_context
from machi.wsgi import application

pytestmark = pytest.mark.django_db(databases="__all__")

A = "131016"
ALL_SCOPES = ("events:read", "residents:read", "residents:read:my_number", "life_events:write")
MAX_EXAMPLES = 30

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261207,
        "generation": {"deterministic": True, "max-examples": MAX_EXAMPLES, "database": "none"},
        "parameters": {"path.lg_code": A},
        # A schema-valid request may still be refused for what no JSON Schema states: an
        # impossible date of birth or type pattern (400), the navigator's rules on its
        # input (422). Both are documented; anything else (5xx above all) still fails.
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "422"]
            }
        },
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)


@pytest.fixture(autouse=True)
def _keep_test_connections():
    """Calls go to Django's WSGI handler, whose request signals close the database
    connections the test's transactions live on (Django's test client disconnects the
    same receiver)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(municipality_a):
    from machi.apiclients.services import apiclient_create

    with tenant_context(A):
        return apiclient_create(name="schemathesis", scopes=ALL_SCOPES).token


@schema.parametrize()
# The token is the same for every generated case, as intended.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api(case, bearer):
    case.call_and_validate(headers={"Authorization": f"Bearer {bearer}"})
