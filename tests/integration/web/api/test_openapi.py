"""The OpenAPI contract: the document, its docs page, and schemathesis against a live server.

Schemathesis fuzzes every operation over real HTTP, authenticated as an
administrator, and fails on any 5xx, any response that breaks its schema and
any status code the document does not list. Examples are bounded so CI stays
fast; the server runs on SQLite (the other databases run the API's own tests).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from werkzeug.serving import make_server

from pastefile.composition import build_services
from pastefile.db import migrate
from pastefile.services.accounts import ROLE_ADMIN, SCOPES
from pastefile.web.api.openapi import openapi_document
from tests.support.settings import make_settings

MAX_EXAMPLES = 25
# tus PATCH bodies (/api/v1/uploads) are raw bytes, sent like application/octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from pastefile.web import create_app

    tmp: Path = tmp_path_factory.mktemp("contract")
    config = make_settings(
        tmp, f"sqlite:///{tmp / 'contract.db'}", base_url="", api_rate_limit="100000/minute"
    )
    services = build_services(config)
    migrate.upgrade(services.db)
    admin = services.accounts.create_user("root", "contract-admin-pw", ROLE_ADMIN)
    principal = services.accounts.session_principal(admin)
    _, token = services.accounts.create_token(principal, "schemathesis", list(SCOPES))
    for name in ("alice", "bob"):
        services.accounts.create_user(name, "contract-user-pw")
    server = make_server("127.0.0.1", 0, create_app(services=services), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "token": token}
    server.shutdown()
    services.close()


# The document is built from the code, so it is known at import time; the
# requests still go over HTTP to the live server.
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_every_operation_keeps_the_contract(operation, live_server) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {live_server['token']}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:  # type: ignore[no-untyped-def]
        # Revoking the fuzzer's own token would blind the rest of the run.
        if operation.path == "/api/v1/tokens/{token_id}" and case.method.upper() == "DELETE":
            case.path_parameters = {"token_id": 10_000 + abs(case.path_parameters["token_id"])}
        case.call_and_validate(
            base_url=live_server["url"],
            headers=headers,
            # Server-side limits (expiry maximum, quotas, type lists) are settings, so
            # some schema-valid data is rightly refused; every other check stays on.
            excluded_checks=[positive_data_acceptance],
        )

    run()


def test_document_is_openapi_31_from_the_models(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0"
    schemas = set(doc["components"]["schemas"])
    assert {"FileOut", "FileCreated", "Problem", "TokenCreated"} <= schemas
    operations = {
        op["operationId"]
        for item in doc["paths"].values()
        for key, op in item.items()
        if key != "parameters"
    }
    wanted = {"listFiles", "createFile", "updateFile", "deleteFile", "createToken", "listUsers"}
    assert wanted <= operations


def test_docs_page_needs_no_cdn(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/api/v1/docs", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "GET /api/v1/files" in html and "openapi.json" in html
    assert "http://" not in html.replace("http://localhost", "") and "https://" not in html


def test_docs_page_speaks_the_readers_language_around_its_links(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/api/v1/docs", headers={"Accept": "text/html", "Accept-Language": "es"})
    html = page.get_data(as_text=True)
    link = '<a href="/api/v1/openapi.json">openapi.json</a>'
    assert f"El contrato legible por máquina es {link}" in html
    assert "Autentícate con <code>Authorization: Bearer &lt;token&gt;</code>." in html
