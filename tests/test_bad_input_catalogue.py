"""Every parameter of every public surface, given a bad value: a 400 that names it.

One table per kind of parameter: those of the filter contract (cases.filters.CaseFilter),
read by every surface that lists cases, and those a surface reads on its own (paging,
format, search text, limits). Each bad value is asked of each surface that takes the
parameter, on the production path (committed data, facet index and page cache on).

The name is found in the API's JSON errors, in the errors a page shows, or in the plain-text
400 of exports and feeds (tests.test_hostile_input.assert_names).
"""

import json

import pytest

from cases.filters import CaseFilter
from cases.models import Case
from cases.search import MAX_QUERY_LENGTH
from cases.search.match import MAX_TEXT_LENGTH
from cases.services import editing
from cases.services.editing import TEXT_LIMITS
from tests.factories import CaseFactory
from tests.test_hostile_input import HUGE, assert_names, get

# Every surface that filters cases through CaseFilter.
FILTERED_SURFACES = {
    "list": "/cases/",
    "stats": "/stats/",
    "feed-rss": "/cases/feed/rss/",
    "feed-atom": "/cases/feed/atom/",
    "export-csv": "/cases/export/?format=csv",
    "export-json": "/cases/export/?format=json",
    "export-ndjson": "/cases/export/?format=ndjson",
    "api-list": "/api/v1/cases/",
    "api-csv": "/api/v1/cases/?format=csv",
    "api-jsonld": "/api/v1/cases/?format=jsonld",
    "api-facets": "/api/v1/cases/facets/",
    "api-match": "/api/v1/match/?text=biolabs",
    "match": "/match/?text=biolabs",
}
# A match is ranked by similarity: it takes every filter but ordering.
UNORDERED = {"api-match", "match"}

# (parameter, bad value): each one of CaseFilter's parameters, several ways.
BAD_FILTER_VALUES = [
    ("q", "biolabs " * (MAX_QUERY_LENGTH // 8 + 1)),
    ("q", "bio\x00labs"),
    ("keyword", "no-such-keyword"),
    ("keyword", "quokka-keyword"),  # tags only a draft and a case in review: private
    ("keyword", "narwhal-keyword"),  # tags only a withdrawn case
    ("country", "atlantis"),
    ("language", "xx"),
    ("outlet", "no-such-outlet"),
    ("outlet", "quokka-courier"),  # appears only in unpublished cases
    ("issue", "1.5"),
    ("issue", "abc"),
    ("issue", "0"),
    ("issue", "-1"),
    ("issue", "+101"),
    ("issue", "1e2"),
    ("issue", "１０１"),  # full-width digits
    ("issue", str(HUGE)),
    ("issue", "9" * 5000),  # more digits than int() reads
    ("year", "２０２４"),  # full-width digits
    ("year", "twenty"),
    ("year", "1800"),
    ("year", "+2024"),
    ("year", "2_024"),
    ("year", "2024.0"),
    ("year", str(HUGE)),
    ("year", "9" * 5000),
    ("date_after", "2024-1-1"),
    ("date_after", "2024-13-01"),
    ("date_after", "01/02/2024"),
    ("date_after", "２０２４-01-01"),
    ("date_after", "2024-01-01T00:00"),
    ("date_before", "2024-1-1"),
    ("date_before", "2024-02-30"),
    ("date_before", "yesterday"),
    ("updated_since", "yesterday"),
    ("updated_since", "2024-1-1T00:00:00Z"),
    ("updated_since", "２０２４-01-01T00:00:00Z"),
    ("updated_since", "2024-01-01T00:00:00+20:00"),
    ("appearance_url", "not a url"),
    ("appearance_url", "javascript:alert(1)"),
    ("appearance_url", "https://x.org/" + "a" * 2100),
    ("appearance_domain", "localhost"),
    ("appearance_domain", "rt..com"),
    ("ordering", "title"),
    ("ordering", "-date;drop"),
]


def filter_cases():
    for surface, url in FILTERED_SURFACES.items():
        for parameter, value in BAD_FILTER_VALUES:
            if parameter == "ordering" and surface in UNORDERED:
                continue
            yield pytest.param(url, parameter, value, id=f"{surface}-{parameter}-{value[:12]!r}")


def test_the_table_covers_every_parameter_of_the_filter_contract():
    assert {parameter for parameter, _ in BAD_FILTER_VALUES} == set(CaseFilter.base_filters)


@pytest.fixture
def production(committed, settings):
    settings.FACET_INDEX, settings.PAGE_CACHE = True, True
    return committed


@pytest.mark.parametrize("url, parameter, value", list(filter_cases()))
def test_a_bad_filter_value_is_refused_naming_the_parameter(
    production, client, url, parameter, value
):
    status, body = get(client, url, **{parameter: value})

    assert_names(status, body, url, parameter)


# (surface URL, parameter, bad values): what a surface reads besides the filter contract.
SURFACE_PARAMETERS = [
    ("/cases/", "cursor", ["garbage", "t.", "eyJ9", "WyItZGF0ZSIsIm5leHQiXQ"]),
    ("/cases/", "more", ["nonsense", "ordering", "KEYWORD"]),
    ("/cases/export/", "format", ["xml", "CSV", "csv\x00"]),
    ("/api/v1/cases/", "cursor", ["garbage", "t.garbage", "eyJ9", "WyItZGF0ZSIsIm5leHQiXQ"]),
    (
        "/api/v1/cases/",
        "page_size",
        ["0", "501", "abc", "-1", "1.5", "+5", "５", "²", "2_0", "1e2", str(HUGE), "9" * 5000],
    ),
    ("/api/v1/cases/", "format", ["xml", "html5"]),
    ("/api/v1/cases/facets/", "limit", ["0", "abc", "-1", "1.5", "+5", "５", "²", "9" * 5000]),
    ("/api/v1/changes/", "since", ["-1", "abc", "1.5", "+5", "５", "²", str(HUGE), "9" * 5000]),
    ("/api/v1/changes/", "limit", ["0", "1001", "abc", "1.5", "+5", "５", "²"]),
    ("/api/v1/match/?text=biolabs", "limit", ["0", "51", "abc", "1.5", "+5", "５", "²"]),
    ("/api/v1/match/", "text", ["", " ", "x" * (MAX_TEXT_LENGTH + 1), "bio\x00labs"]),
    ("/match/?text=biolabs", "limit", ["0", "51", "abc", "1.5", "+5", "５", "²", "9" * 5000]),
    ("/match/", "text", [" ", "x" * (MAX_TEXT_LENGTH + 1), "bio\x00labs"]),
    ("/api/v1/cases/{spotlight}/similar/", "limit", ["0", "51", "abc", "+5", "５", "²"]),
    ("/corrections/", "page", ["abc", "0", "-1", "５", str(HUGE), "9" * 5000]),
]


def surface_cases():
    for url, parameter, values in SURFACE_PARAMETERS:
        for value in values:
            yield pytest.param(url, parameter, value, id=f"{url}-{parameter}-{value[:12]!r}")


@pytest.mark.parametrize("url, parameter, value", list(surface_cases()))
def test_a_bad_value_of_a_surface_parameter_is_refused_naming_it(
    production, client, url, parameter, value
):
    url = url.format(spotlight=production.spotlight.pk)

    status, body = get(client, url, **{parameter: value})

    assert_names(status, body, url, parameter)


def test_an_api_error_names_the_parameter_in_json(production, client):
    status, body = get(client, "/api/v1/cases/", year="２０２４")

    assert status == 400
    (error,) = json.loads(body)["errors"]
    assert error["field"] == "year"
    assert "Enter a year as a number, like 2022" in error["message"]


@pytest.mark.parametrize(
    "parameter, value",
    [("year", "2023"), ("issue", "101"), ("date_after", "2023-01-01"), ("page_size", "5")],
)
def test_a_good_value_in_ascii_digits_still_filters(production, client, parameter, value):
    status, body = get(client, "/api/v1/cases/", **{parameter: value})

    assert status == 200, body[:300]
    assert json.loads(body)["count"] > 0


# Bodies of the API's writes: a 400 naming the field (or the body), and nothing written.

WRONG_TYPES = {
    "title-number": ({"title": 1}, "title"),
    "title-float": ({"title": 1.5}, "title"),
    "title-true": ({"title": True}, "title"),
    "title-list": ({"title": ["x"]}, "title"),
    "summary-number": ({"title": "A claim", "summary": 5}, "summary"),
    "disproof-object": ({"title": "A claim", "disproof": {"a": 1}}, "disproof"),
    "withdrawal-reason-number": ({"title": "A claim", "withdrawal_reason": 0}, "withdrawal_reason"),
}


def post_json(client, url, text, method="post"):
    response = getattr(client, method)(url, text, content_type="application/json")
    return response.status_code, response.json()


def fields(body):
    return [error["field"] for error in body["errors"]]


@pytest.mark.django_db
@pytest.mark.parametrize("body", WRONG_TYPES)
def test_a_text_field_sent_as_another_json_type_is_refused_naming_it(editor_client, body):
    data, field = WRONG_TYPES[body]

    status, answer = post_json(editor_client, "/api/v1/cases/", json.dumps(data))

    assert (status, fields(answer)) == (400, [field])
    assert not Case.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "number", ["1e999999", "-1e999999", "NaN", "Infinity", "-Infinity", "1" + "0" * 400 + ".0"]
)
def test_a_number_a_float_cannot_hold_is_refused(editor_client, number):
    status, answer = post_json(editor_client, "/api/v1/cases/", f'{{"title": {number}}}')

    assert status == 400, answer
    assert answer["status"] == 400 and "JSON parse error" in answer["errors"][0]["message"]
    assert not Case.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", TEXT_LIMITS)
def test_a_text_over_its_length_cap_is_refused_naming_it(editor_client, field):
    limit = TEXT_LIMITS[field]
    data = {"title": "A claim", field: "x" * (limit + 1)}

    status, answer = post_json(editor_client, "/api/v1/cases/", json.dumps(data))

    assert (status, fields(answer)) == (400, [field])
    assert str(limit) in answer["errors"][0]["message"]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_texts_at_their_length_cap_are_written(editor_client):
    data = {"title": "A claim", **{field: "x" * limit for field, limit in TEXT_LIMITS.items()}}

    status, answer = post_json(editor_client, "/api/v1/cases/", json.dumps(data))

    assert status == 201, answer
    assert len(Case.objects.get().summary) == TEXT_LIMITS["summary"]


@pytest.mark.django_db
def test_a_change_over_the_length_cap_leaves_the_case_as_it_was(editor_client):
    case = CaseFactory(status=Case.Status.DRAFT, disproof="Short.")
    too_long = json.dumps({"disproof": "x" * (TEXT_LIMITS["disproof"] + 1)})

    status, answer = post_json(editor_client, f"/api/v1/cases/{case.pk}/", too_long, "patch")

    assert (status, fields(answer)) == (400, ["disproof"])
    case.refresh_from_db()
    assert (case.disproof, case.version) == ("Short.", 1)


@pytest.mark.django_db
def test_the_write_path_itself_refuses_a_text_over_its_cap_and_writes_nothing():
    from django.core.exceptions import ValidationError

    case = CaseFactory(status=Case.Status.DRAFT, summary="Short.")
    too_long = "x" * (TEXT_LIMITS["summary"] + 1)

    with pytest.raises(ValidationError) as refused:
        editing.save_case(case, summary=too_long)

    assert list(refused.value.message_dict) == ["summary"]
    case.refresh_from_db()
    assert (case.summary, case.version) == ("Short.", 1)


@pytest.mark.django_db
def test_the_case_form_refuses_a_text_over_its_cap(admin_client):
    response = admin_client.post(
        "/admin/cases/case/add/",
        {
            "title": "A claim",
            "summary": "x" * (TEXT_LIMITS["summary"] + 1),
            "status": "draft",
            "appearances-TOTAL_FORMS": "0",
            "appearances-INITIAL_FORMS": "0",
            "pending_references-TOTAL_FORMS": "0",
            "pending_references-INITIAL_FORMS": "0",
            "correction_notes-TOTAL_FORMS": "0",
            "correction_notes-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200  # the form again, with its error
    assert (
        f'id="id_summary_error"><li>Ensure this value has at most {TEXT_LIMITS["summary"]} '
        "characters" in response.content.decode()
    )
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_an_import_over_the_length_cap_is_refused_naming_the_field(tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "cases.csv"
    summary = "x" * (TEXT_LIMITS["summary"] + 1)
    path.write_text(f"title,summary\nA claim,{summary}\n", encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        call_command("import_cases", str(path))

    assert f"summary: is longer than {TEXT_LIMITS['summary']} characters" in str(refused.value)
    assert not Case.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/v1/cases/", {"title": "A claim", "summary": "x" * 2000}),
        ("/api/v1/match/", {"text": "x" * 2000}),
    ],
)
def test_a_body_over_the_upload_limit_is_a_413_in_json(editor_client, settings, url, body):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = editor_client.post(url, json.dumps(body), content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == 413
    assert "1,000 bytes" in response.json()["errors"][0]["message"]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_body_within_the_upload_limit_is_read(editor_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    status, answer = post_json(editor_client, "/api/v1/cases/", json.dumps({"title": "A claim"}))

    assert status == 201, answer


# Parameters no surface takes, and methods no surface answers.

UNKNOWN_PARAMETER_SURFACES = {
    **FILTERED_SURFACES,
    "changes": "/api/v1/changes/",
    "similar": "/api/v1/cases/{spotlight}/similar/",
    "corrections": "/corrections/",
    "browse": "/keywords/",
    "api-keywords": "/api/v1/keywords/",
    "api-case": "/api/v1/cases/{spotlight}/",
}


@pytest.mark.parametrize(
    "url", [pytest.param(url, id=surface) for surface, url in UNKNOWN_PARAMETER_SURFACES.items()]
)
def test_an_unknown_parameter_is_refused_naming_it(production, client, url):
    url = url.format(spotlight=production.spotlight.pk)

    status, body = get(client, url, nonsense="1")

    assert_names(status, body, url, "nonsense")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases/",
        "/api/v1/changes/",
        "/cases/",
        "/stats/",
        "/cases/export/",
    ],
)
def test_trace_is_not_allowed(production, client, url):
    client.raise_request_exception = False

    response = client.generic("TRACE", url)

    assert response.status_code == 405


@pytest.mark.parametrize(
    "method, url, status",
    [
        ("GET", "/api/v1/no-such-thing/", 404),
        ("GET", "/api/v1/cases/999999999/", 404),
        ("PUT", "/api/v1/changes/", 405),
        ("TRACE", "/api/v1/cases/", 405),
    ],
)
def test_an_api_error_answers_the_api_json_shape(production, client, method, url, status):
    client.raise_request_exception = False

    response = client.generic(method, url)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == status


# Ids in paths, and numbers in the editors' tools and import files.


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases/abc/",
        "/api/v1/cases/²/",
        "/api/v1/cases/５/",
        "/api/v1/cases/abc/similar/",
        "/api/v1/cases/²/similar/",
        f"/api/v1/cases/{HUGE}/similar/",
    ],
)
def test_an_id_in_an_api_path_that_names_no_case_is_not_found(production, client, url):
    status, body = get(client, url)

    assert status == 404, body[:300]
    assert json.loads(body)["status"] == 404


@pytest.mark.django_db
@pytest.mark.parametrize("exclude", ["²", "５", str(HUGE)])
def test_the_admin_duplicate_check_ignores_an_exclude_that_names_no_case(admin_client, exclude):
    CaseFactory(title="NATO is preparing an attack")

    response = admin_client.get(
        "/admin/cases/case/similar/", {"title": "NATO preparing attack", "exclude": exclude}
    )

    assert response.status_code == 200
    assert [case["title"] for case in response.json()["results"]] == ["NATO is preparing an attack"]


@pytest.mark.django_db
@pytest.mark.parametrize("issue", ["²", "５", "2147483648", str(HUGE)])
def test_an_import_with_an_issue_number_out_of_range_is_refused_naming_it(tmp_path, issue):
    from django.core.management import CommandError, call_command

    path = tmp_path / "cases.csv"
    path.write_text(f"title,issue\nA claim,{issue}\n", encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        call_command("import_cases", str(path))

    assert "issue: not a number" in str(refused.value)
    assert not Case.objects.exists()


def test_a_body_sent_without_a_length_is_read_no_further_than_the_limit(settings):
    import io

    from django.test import RequestFactory

    from cases.api.parsers import JSONParser, PayloadTooLarge

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    chunked = RequestFactory().post("/api/v1/cases/")  # as a chunked body: no Content-Length
    chunked.META.pop("CONTENT_LENGTH", None)
    body = io.BytesIO(json.dumps({"summary": "x" * 5000}).encode())

    with pytest.raises(PayloadTooLarge):
        JSONParser().parse(body, "application/json", {"request": chunked})
    assert body.tell() == 1001

    small = io.BytesIO(b'{"title": "A claim", "score": 0.5}')
    assert JSONParser().parse(small, "application/json", {"request": chunked}) == {
        "title": "A claim",
        "score": 0.5,
    }


# The statistics page's own parameters beside the filters.
BAD_STATS_VALUES = [
    ("compare", "topic:nato"),
    ("compare", "no-colon"),
    ("compare", "keyword:no-such-keyword"),
    ("compare", "keyword:quokka-keyword"),  # private
    ("compare", "keyword:bio\x00labs"),
    ("compare", "keyword:" + "x" * 100_000),
    ("granularity", "week"),
    ("granularity", "x" * 100_000),
]


@pytest.mark.parametrize("parameter, value", BAD_STATS_VALUES)
def test_a_bad_statistics_parameter_is_refused_naming_it(production, client, parameter, value):
    status, body = get(client, "/stats/", **{parameter: value})

    assert_names(status, body, "/stats/", parameter)


def test_more_than_five_compared_values_are_refused_naming_compare(production, client):
    slugs = "&".join(f"compare=keyword:k{n}" for n in range(6))

    status, body = get(client, f"/stats/?{slugs}")

    assert_names(status, body, "/stats/", "compare")
