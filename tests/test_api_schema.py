"""The OpenAPI schema is valid, and the API keeps its promises under generated input."""

import io
import re

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from cases.models import Case
from tests.conftest import STAFF_PERMISSIONS, make_user
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
)

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert out.getvalue().startswith("openapi: 3.0.3")


def test_every_reference_in_the_schema_resolves(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    text = str(schema)
    references = set(re.findall(r"'#/components/schemas/(\w+)'", text))
    assert "Tombstone" in references
    assert references <= set(schema["components"]["schemas"])
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


def test_a_case_documents_its_source_key_and_publication_time(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    properties = schema["components"]["schemas"]["Case"]["properties"]
    for name in ("source_id", "source_url"):
        assert properties[name]["type"] == "string"
        assert properties[name]["readOnly"] is True
        assert "empty when none" in properties[name]["description"]
    assert properties["published_at"]["format"] == "date-time"
    assert properties["published_at"]["nullable"] is True


@pytest.mark.parametrize(
    "name",
    ["q", "keyword", "country", "language", "outlet", "year", "issue", "date_after", "date_before"]
    + ["updated_since", "ordering", "cursor", "page_size", "format"],
)
def test_every_filter_parameter_is_documented_with_a_type_and_an_example(api_client, name):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    parameters = schema["paths"]["/api/v1/cases/"]["get"]["parameters"]
    (parameter,) = [p for p in parameters if p["name"] == name]
    assert parameter["in"] == "query"
    assert parameter["schema"]["type"] in ("string", "integer", "array")
    assert parameter["description"]
    if name != "outlet":  # no example: the seed data has no outlet to name
        assert parameter.get("examples") or "example" in parameter


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_load_their_assets_locally(client, url):
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower()
    if url == "/api/docs/":  # Swagger UI's start-up script is a file of its own (no inline script)
        assert '<script src="/api/docs/?script="></script>' in page
        page = client.get("/api/docs/?script=").content.decode()
    assert "/api/v1/schema/" in page


@pytest.fixture
def wsgi_app(settings):
    """The project's WSGI app, called in the test's own transaction.

    Like Django's test client, it keeps the connection open between requests.
    """
    from disinfo_db.wsgi import application

    settings.DISINFO_API_ANON_RATE = ""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app):
    nato = KeywordFactory(name="NATO")
    case = CaseFactory(
        title="NATO is preparing an attack",
        issue=IssueFactory(number=270),
        keywords=[nato],
        countries=[CountryFactory(name="Ukraine")],
        languages=[LanguageFactory(code="ru", name="Russian")],
    )
    AppearanceFactory(case=case, outlet=OutletFactory(name="Sputnik"))
    CaseFactory(title="A draft", status=Case.Status.DRAFT)
    return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)


@pytest.fixture
def staff_token(db):
    from cases.api.tokens import issue_token

    return issue_token(make_user("fuzzer", STAFF_PERMISSIONS), scope="write")[1]


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES_PER_OPERATION = 25


def test_generated_requests_get_no_server_error_and_answers_match_the_schema(
    api_schema, staff_token
):
    """A bounded, deterministic run over every operation, valid and invalid input alike.

    Each request is made as a user with every case permission; reads are made again
    anonymously. Failures are not shrunk, to keep the run short.
    """
    for result in api_schema.get_all_operations():
        operation = result.ok()
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
            *operation.get_strategies_from_examples(),
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def exercise(case):
            case.call_and_validate(headers={"Authorization": f"Token {staff_token}"}, checks=CHECKS)
            if case.method == "GET":
                case.call_and_validate(checks=CHECKS)

        exercise()


@pytest.fixture
def seed_cases(db):
    from tests.conftest import SEED_FILE

    call_command("import_cases", str(SEED_FILE), "--status", "published", stdout=io.StringIO())
    return Case.objects.published().order_by("id")


def parameter_example(parameter):
    if "example" in parameter:
        return parameter["example"]
    examples = parameter.get("examples") or {}
    return next(iter(examples.values()))["value"] if examples else None


def test_every_documented_example_gets_an_answer_from_the_seed_data(api_client, seed_cases):
    """A partner trying the schema's examples on a fresh install gets 2xx, never a 400."""
    schema = api_client.get("/api/v1/schema/?format=json").json()
    case = seed_cases.first()
    path_values = {
        "/cases/{id}": case.pk,
        "/keywords/{slug}": "mi6",
        "/countries/{slug}": "kazakhstan",
        "/languages/{code}": "ru",
        "/issues/{number}": 270,
    }
    tried = 0
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        url = path
        for template, value in path_values.items():
            url = url.replace(template, f"{template.split('/{')[0]}/{value}")
        if "{" in url:
            assert path == "/api/v1/outlets/{slug}/"  # the seed data has no outlet
            continue
        parameters = [p for p in operations["get"].get("parameters", []) if p["in"] == "query"]
        needed = {p["name"]: parameter_example(p) for p in parameters if p.get("required")}
        for parameter in parameters:
            example = parameter_example(parameter)
            if example is None:
                continue
            response = api_client.get(url, {**needed, parameter["name"]: example})
            assert 200 <= response.status_code < 300, (url, parameter["name"], example)
            tried += 1
    assert tried > 40


def test_reads_need_no_credentials_and_writes_need_a_token_or_a_session(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    assert schema["security"] == [{}, {"tokenAuth": []}, {"cookieAuth": []}]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "get" or path == "/api/v1/match/":
                # The document's security applies: credentials are optional.
                assert "security" not in operation, (method, path)
            else:
                assert operation["security"] == [{"tokenAuth": []}, {"cookieAuth": []}]


def test_caching_headers_and_conditional_requests_are_documented(api_client):
    paths = api_client.get("/api/v1/schema/?format=json").json()["paths"]
    read = paths["/api/v1/cases/{id}/"]["get"]
    headers = {p["name"] for p in read["parameters"] if p["in"] == "header"}
    assert headers == {"If-None-Match", "If-Modified-Since"}
    assert set(read["responses"]["200"]["headers"]) == {"ETag", "Last-Modified"}
    assert "content" not in read["responses"]["304"]
    assert read["responses"]["410"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert set(read["responses"]["429"]["headers"]) == {"Retry-After"}
    for method in ("put", "patch", "delete"):
        write = paths["/api/v1/cases/{id}/"][method]
        assert "If-Match" in {p["name"] for p in write["parameters"] if p["in"] == "header"}
        assert "412" in write["responses"]
    created = paths["/api/v1/cases/"]["post"]["responses"]["201"]
    assert {"Location", "ETag"} <= set(created["headers"])
    assert "Link" in paths["/api/v1/cases.jsonld"]["get"]["responses"]["200"]["headers"]


def test_each_format_has_its_own_operation_and_answer_schema(api_client, seed_cases):
    paths = api_client.get("/api/v1/schema/?format=json").json()["paths"]
    one = paths["/api/v1/cases/{id}.jsonld"]["get"]["responses"]["200"]["content"]
    assert one == {"application/ld+json": {"schema": {"$ref": "#/components/schemas/ClaimReview"}}}
    listed = paths["/api/v1/cases.csv"]["get"]
    assert list(listed["responses"]["200"]["content"]) == ["text/csv"]
    assert not {"cursor", "page_size", "format"} & {p["name"] for p in listed["parameters"]}
    case = seed_cases.first()
    for url, media_type in [
        (f"/api/v1/cases/{case.pk}.jsonld", "application/ld+json"),
        (f"/api/v1/cases/{case.pk}.csv", "text/csv; charset=utf-8"),
        ("/api/v1/cases.jsonld", "application/ld+json"),
        ("/api/v1/cases.csv", "text/csv; charset=utf-8"),
    ]:
        response = api_client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == media_type
