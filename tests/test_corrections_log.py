"""The corrections log (/corrections/) and its Atom feed (/corrections/feed/): every
correction note of a published case and every withdrawal, newest first. Notes of drafts,
of cases in review and of withdrawn cases never show."""

import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case, CorrectionNote
from cases.services.editing import save_case
from cases.site import corrections
from tests.factories import CaseFactory, edit

ATOM = "{http://www.w3.org/2005/Atom}"
REASON = "A duplicate of another case, which says it better."
HIDDEN_NOTES = ("Quokka draft note.", "Quokka review note.", "Narwhal note of a withdrawn case.")


def correct(case, note):
    """A correction note, added as editors add one: with an edit, through the write path."""
    return save_case(case, correction_note=note).case


def entry_keys(response):
    return [(entry.kind, entry.entry_id) for entry in response.context_data["entries"]]


def feed_entries(client):
    response = client.get("/corrections/feed/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root, root.findall(f"{ATOM}entry")


@pytest.fixture
def log(db):
    """Two corrections of a published case with a withdrawal between them, and notes that
    must never show: a draft's, a case in review's and a withdrawn case's."""
    published = CaseFactory(title="Grain exports were stopped by sanctions")
    published = correct(published, "The date of the claim was corrected.")
    first_note = published.correction_notes.get()

    withdrawn = CaseFactory(title="A claim withdrawn later")
    correct(withdrawn, HIDDEN_NOTES[2])
    withdrawn = edit(withdrawn, status=Case.Status.WITHDRAWN, withdrawal_reason=REASON)

    correct(CaseFactory(title="Quokka draft", status=Case.Status.DRAFT), HIDDEN_NOTES[0])
    correct(CaseFactory(title="Quokka review", status=Case.Status.IN_REVIEW), HIDDEN_NOTES[1])

    published = correct(published, "The outlet's name was misspelt.")
    second_note = published.correction_notes.latest("id")
    return {
        "published": published,
        "withdrawn": withdrawn,
        "first_note": first_note,
        "second_note": second_note,
    }


def test_the_log_lists_corrections_of_published_cases_and_withdrawals_newest_first(client, log):
    response = client.get("/corrections/")

    assert response.status_code == 200
    assert entry_keys(response) == [
        ("correction", log["second_note"].pk),
        ("withdrawal", log["withdrawn"].pk),
        ("correction", log["first_note"].pk),
    ]
    html = response.content.decode()
    published, withdrawn = log["published"], log["withdrawn"]
    assert f'<a href="{published.get_absolute_url()}">{published.title}</a>' in html
    assert "The date of the claim was corrected." in html
    assert "with version 2 of the case" in html
    assert "The outlet&#x27;s name was misspelt." in html
    assert "with version 3 of the case" in html
    assert f'<a href="{withdrawn.get_absolute_url()}">A claim withdrawn later</a>' in html
    assert REASON in html
    assert f'id="withdrawal-{withdrawn.pk}"' in html
    # Dated as its 410 page dates it.
    assert f'<time datetime="{withdrawn.updated_at:%Y-%m-%d}">' in html
    assert "3 entries" in html


def test_notes_of_drafts_cases_in_review_and_withdrawn_cases_never_show(client, log):
    html = client.get("/corrections/").content.decode()
    _, entries = feed_entries(client)
    feed = client.get("/corrections/feed/").content.decode()

    assert len(entries) == 3
    for note in HIDDEN_NOTES:
        assert note not in html
        assert note not in feed
    assert "Quokka" not in html
    assert "Quokka" not in feed


def test_a_drafts_note_shows_once_the_case_is_published_as_on_its_page(client, db):
    draft = correct(CaseFactory(status=Case.Status.DRAFT), "Corrected before publication.")
    assert "Corrected before publication." not in client.get("/corrections/").content.decode()

    published = edit(draft, status=Case.Status.PUBLISHED)

    assert "Corrected before publication." in client.get("/corrections/").content.decode()
    case_page = client.get(published.get_absolute_url()).content.decode()
    assert "Corrected before publication." in case_page


def test_the_feed_is_valid_atom_with_one_entry_per_correction_and_withdrawal(client, log):
    root, entries = feed_entries(client)

    for required in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{required}")
    assert (
        root.find(f"{ATOM}link[@rel='self']").get("href") == "http://testserver/corrections/feed/"
    )
    published, withdrawn = log["published"], log["withdrawn"]
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == [
        f"Correction: {published.title}",
        "Withdrawn: A claim withdrawn later",
        f"Correction: {published.title}",
    ]
    assert [entry.findtext(f"{ATOM}id") for entry in entries] == [
        f"tag:127.0.0.1,2026:correction/{log['second_note'].pk}",
        f"tag:127.0.0.1,2026:withdrawal/{withdrawn.pk}",
        f"tag:127.0.0.1,2026:correction/{log['first_note'].pk}",
    ]
    for entry in entries:
        assert entry.findtext(f"{ATOM}updated")
        assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/cases/")
        assert entry.find(f"{ATOM}content").get("type") == "html"
    contents = [entry.findtext(f"{ATOM}content") for entry in entries]
    assert "The outlet&#x27;s name was misspelt." in contents[0]
    assert "version 3 of the case" in contents[0]
    assert REASON in contents[1]
    assert entries[1].find(f"{ATOM}link").get("href") == (
        f"http://testserver{withdrawn.get_absolute_url()}"
    )


def test_feed_entry_ids_stay_the_same_as_entries_are_added(client, log):
    _, before = feed_entries(client)
    correct(log["published"], "A third correction.")
    _, after = feed_entries(client)

    ids_before = [entry.findtext(f"{ATOM}id") for entry in before]
    ids_after = [entry.findtext(f"{ATOM}id") for entry in after]
    assert ids_after[1:] == ids_before
    assert len(set(ids_after)) == 4


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "٢", "2"])
def test_a_bad_page_is_a_400_naming_page(client, log, page):
    response = client.get(f"/corrections/?page={page}")

    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "page:" in html
    assert REASON not in html


def test_the_log_is_paginated_newest_first(client, log, monkeypatch):
    monkeypatch.setattr(corrections, "PAGE_SIZE", 2)

    first = client.get("/corrections/")
    second = client.get("/corrections/?page=2")

    assert entry_keys(first) == [
        ("correction", log["second_note"].pk),
        ("withdrawal", log["withdrawn"].pk),
    ]
    assert entry_keys(second) == [("correction", log["first_note"].pk)]
    assert '<a rel="next" href="?page=2">' in first.content.decode()
    assert '<a rel="prev" href="?page=1">' in second.content.decode()
    assert client.get("/corrections/?page=3").status_code == 400


def test_an_empty_log_says_so(client, db):
    CaseFactory()
    response = client.get("/corrections/")

    assert response.status_code == 200
    assert "No corrections or withdrawals yet" in response.content.decode()
    _, entries = feed_entries(client)
    assert entries == []


def test_the_log_links_its_atom_feed_and_every_page_links_the_log(client, log):
    html = client.get("/corrections/").content.decode()
    assert (
        '<link rel="alternate" type="application/atom+xml" '
        'title="Corrections and withdrawals (Atom)" href="/corrections/feed/">'
    ) in html
    assert '<a href="/corrections/feed/">' in html
    assert '<a href="/corrections/">Corrections and withdrawals</a>' in (
        client.get("/cases/").content.decode()
    )
    assert html.count('type="application/atom+xml" title="Corrections and withdrawals') == 1


@pytest.mark.parametrize("url", ["/cases/", "/stats/", "/keywords/", "/match/"])
def test_every_page_links_the_corrections_feed_in_its_head_and_footer(client, log, url):
    html = client.get(url).content.decode()
    head, _, body = html.partition("</head>")
    assert (
        '<link rel="alternate" type="application/atom+xml" '
        'title="Corrections and withdrawals (Atom)" href="/corrections/feed/">'
    ) in head
    assert '<a href="/corrections/feed/" type="application/atom+xml">Atom feed</a>' in body


def test_a_page_of_the_log_takes_two_queries(client, log, django_assert_num_queries):
    # 1. the number of entries; 2. the entries of the page, with their cases' titles
    with django_assert_num_queries(2):
        assert client.get("/corrections/").status_code == 200


def test_the_withdrawn_case_page_links_to_its_entry_on_the_log(client, log, monkeypatch):
    withdrawn = log["withdrawn"]
    response = client.get(withdrawn.get_absolute_url())
    assert response.status_code == 410
    assert f'<a href="/corrections/#withdrawal-{withdrawn.pk}">' in response.content.decode()

    # On a later page of the log, the link names that page.
    monkeypatch.setattr(corrections, "PAGE_SIZE", 1)
    html = client.get(withdrawn.get_absolute_url()).content.decode()
    assert f'<a href="/corrections/?page=2#withdrawal-{withdrawn.pk}">' in html
    assert f'id="withdrawal-{withdrawn.pk}"' in client.get("/corrections/?page=2").content.decode()


# The production path: committed data, facet index and page cache on. These tests read the
# module's committed cases (tests/conftest.py), so they come after the tests above, whose
# data is rolled back.


def switch_to_production(settings):
    settings.FACET_INDEX, settings.PAGE_CACHE = True, True


def read(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("url", ["/corrections/", "/corrections/feed/"])
def test_the_log_is_kept_as_computed_afresh_and_shows_nothing_unpublished(
    committed, client, settings, url
):
    expected = read(client, url)  # the page cache is off
    switch_to_production(settings)

    assert read(client, url) == expected
    with CaptureQueriesContext(connection) as queries:
        assert read(client, url) == expected
    assert [query["sql"] for query in queries.captured_queries] == ["EXECUTE read_version"]
    assert "First note." in expected  # the spotlight's, a published case
    assert "Narwhal duplicate." in expected  # the withdrawn case's reason
    assert "quokka" not in expected.lower()


@pytest.mark.parametrize("url", ["/corrections/", "/corrections/feed/"])
def test_a_kept_log_shows_a_new_correction_and_a_new_withdrawal(committed, client, settings, url):
    switch_to_production(settings)
    read(client, url)
    corrected, withdrawn, draft = committed.claim_9, committed.claim_8, committed.draft
    try:
        correct(corrected, "A correction made while the log was kept.")
        correct(draft, "A quokka note of the draft.")
        shown = read(client, url)
        assert "A correction made while the log was kept." in shown
        assert "quokka" not in shown.lower()

        edit(withdrawn, status=Case.Status.WITHDRAWN, withdrawal_reason="Withdrawn while kept.")
        shown = read(client, url)
        assert "Withdrawn while kept." in shown
        assert withdrawn.title in shown
    finally:
        edit(withdrawn, status=Case.Status.PUBLISHED, withdrawal_reason="")
        CorrectionNote.objects.filter(case__in=[corrected, draft]).delete()
    assert "Withdrawn while kept." not in read(client, url)
