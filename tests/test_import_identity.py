"""Which case an imported entry updates: its source key first, its title and date after."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from cases.models import Case
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2022, 1, 10)
REPORT = "https://euvsdisinfo.eu/report/a-claim/"


def import_csv(tmp_path, text):
    path = tmp_path / "cases.csv"
    path.write_text(text, encoding="utf-8")
    out = StringIO()
    call_command("import_cases", str(path), stdout=out)
    return out.getvalue()


def test_the_source_url_finds_the_case_whatever_its_title_now(tmp_path):
    case = CaseFactory(title="A claim", date=DAY, source_url=REPORT)

    out = import_csv(tmp_path, f"source_url,title,date\n{REPORT},A claim renamed,2022-01-11\n")

    assert "1 updated" in out
    case.refresh_from_db()
    assert (case.title, case.date) == ("A claim renamed", datetime.date(2022, 1, 11))


def test_the_source_id_comes_before_the_url(tmp_path):
    by_id = CaseFactory(title="By id", source_id="42")
    by_url = CaseFactory(title="By URL", source_url=REPORT)

    import_csv(tmp_path, "source_id,source_url,title\n42,,By id changed\n")

    assert Case.objects.get(pk=by_id.pk).title == "By id changed"
    assert Case.objects.get(pk=by_url.pk).title == "By URL"


def test_a_keyed_entry_adopts_the_unkeyed_case_with_its_title_and_date(tmp_path):
    case = CaseFactory(title="A claim", date=DAY)

    out = import_csv(tmp_path, f"source_url,title,date\n{REPORT},A claim,2022-01-10\n")

    assert "1 updated" in out
    case.refresh_from_db()
    assert case.source_url == REPORT
    assert Case.objects.count() == 1


def test_a_keyed_entry_is_new_when_the_case_with_its_title_has_another_key(tmp_path):
    CaseFactory(title="A claim", date=DAY, source_url=REPORT)

    out = import_csv(
        tmp_path, f"source_url,title,date\n{REPORT.rstrip('/')}-2/,A claim,2022-01-10\n"
    )

    assert "1 created" in out
    assert Case.objects.filter(title="A claim", date=DAY).count() == 2


def test_an_entry_without_a_key_matches_on_title_and_date_and_keeps_the_key(tmp_path):
    case = CaseFactory(title="A claim", date=DAY, source_url=REPORT, summary="Old.")

    out = import_csv(tmp_path, "title,date,summary\nA claim,2022-01-10,New.\n")

    assert "1 updated" in out
    case.refresh_from_db()
    assert (case.summary, case.source_url) == ("New.", REPORT)


def test_two_cases_sharing_title_and_date_are_each_updated_by_their_url(tmp_path):
    first = CaseFactory(title="A claim", date=DAY, source_url=REPORT, summary="One.")
    second = CaseFactory(title="A claim", date=DAY, source_url=REPORT + "2/", summary="Two.")
    text = (
        (
            "source_url,title,date,summary\n"
            f"{REPORT}2/,A claim,2022-01-10,Second, changed.\n"
            f"{REPORT},A claim,2022-01-10,First, changed.\n"
        )
        .replace("Second, changed.", '"Second, changed."')
        .replace("First, changed.", '"First, changed."')
    )

    out = import_csv(tmp_path, text)

    assert "2 updated" in out
    assert Case.objects.get(pk=first.pk).summary == "First, changed."
    assert Case.objects.get(pk=second.pk).summary == "Second, changed."
