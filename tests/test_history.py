import datetime
import re
from html import unescape

import pytest

from cases import history
from cases.importers import parse_file
from cases.models import Case, CorrectionNote, ImportBatch, Keyword
from cases.services import merge, taxonomy
from cases.services.editing import delete_case, save_case
from cases.services.imports import save_cases
from tests.editors import case_form_data, change_url, make_user
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    IssueFactory,
    KeywordFactory,
    OutletFactory,
    edit,
)

pytestmark = pytest.mark.django_db

Status = Case.Status


@pytest.fixture
def editor():
    return make_user("editor", "Editors")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_an_admin_edit_records_one_entry_with_the_user_fields_links_and_appearances(
    editor_client, editor
):
    case = CaseFactory(status=Status.DRAFT, title="Original title")
    nato = KeywordFactory(name="NATO")
    outlet = OutletFactory(name="Sputnik")
    before = case.history.count()
    data = case_form_data(
        case,
        title="Corrected title",
        keywords=[nato.pk],
        **{
            "appearances-TOTAL_FORMS": 1,
            "appearances-0-outlet": outlet.pk,
            "appearances-0-url": "https://sputnik.example/a",
            "appearances-0-archive_url": "",
        },
    )
    assert editor_client.post(change_url(case), data).status_code == 302
    assert case.history.count() == before + 1
    record = case.history.first()
    assert record.history_user == editor
    changes = {label: (old, new) for label, old, new in history.changes_in(record)}
    assert changes["Title"] == ("Original title", "Corrected title")
    assert changes["Keywords"] == ("", "NATO")
    assert changes["Appearances"] == ("", "Sputnik https://sputnik.example/a")


def test_the_history_page_shows_who_changed_what(editor_client):
    case = CaseFactory(status=Status.DRAFT, title="Before")
    editor_client.post(change_url(case), case_form_data(case, title="After"))
    html = editor_client.get(f"/admin/cases/case/{case.pk}/history/").content.decode()
    assert "editor" in html
    assert "Before" in html and "After" in html


@pytest.mark.parametrize("object_id", ["5/change", "abc", "1.5"])
def test_a_history_url_without_a_case_id_goes_back_to_the_list(editor_client, object_id):
    response = editor_client.get(f"/admin/cases/case/{object_id}/history/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    messages = [str(message) for message in response.wsgi_request._messages]
    assert any("doesn’t exist" in message for message in messages), messages


def test_reverting_restores_fields_links_and_appearances_as_a_new_version(editor_client):
    nato = KeywordFactory(name="NATO")
    case = CaseFactory(status=Status.DRAFT, title="First title", keywords=[nato])
    AppearanceFactory(case=case, url="https://first.example/a")
    history.record_now(case)
    first = case.history.first()
    case.refresh_from_db()
    data = case_form_data(
        case,
        title="Second title",
        keywords=[],
        **{"appearances-0-url": "https://second.example/b"},
    )
    assert editor_client.post(change_url(case), data).status_code == 302
    case.refresh_from_db()
    assert case.title == "Second title" and not case.keywords.exists()
    version_before_revert = case.version

    url = f"/admin/cases/case/{case.pk}/history/{first.history_id}/"
    page = editor_client.get(url).content.decode()
    # What reverting changes, from now to version 1: one word of the title, a keyword
    # and an appearance.
    assert "<del>Second</del><ins>First</ins> title" in page
    assert "<ins>+ NATO</ins>" in page
    assert "<del>− Outlet" in page and "<ins>+ Outlet" in page
    assert editor_client.post(url).status_code == 302

    case.refresh_from_db()
    assert case.title == "First title"
    assert list(case.keywords.all()) == [nato]
    assert list(case.appearances.values_list("url", flat=True)) == ["https://first.example/a"]
    assert case.version == version_before_revert + 1
    assert case.history.first().history_change_reason == f"Reverted to version {first.version}"
    assert Case.objects.search("nato").get() == case


def test_related_case_links_are_in_the_history_and_restored_by_a_revert(editor_client):
    other = CaseFactory(title="The other claim")
    case = CaseFactory(status=Status.DRAFT, title="A claim")
    case.related.add(other)
    history.record_now(case)
    first = case.history.first()
    case.refresh_from_db()
    data = case_form_data(case, related=[])
    assert editor_client.post(change_url(case), data).status_code == 302
    assert not case.related.exists()

    assert history.changes_in(case.history.first()) == [("Related cases", "The other claim", "")]
    url = f"/admin/cases/case/{case.pk}/history/{first.history_id}/"
    assert editor_client.post(url).status_code == 302
    assert list(case.related.all()) == [other]
    assert list(other.related.all()) == [case]


def test_reverting_does_not_change_the_status(editor_client):
    case = CaseFactory(status=Status.DRAFT, title="Draft title")
    history.record_now(case)
    first = case.history.first()
    edit(case, status=Status.PUBLISHED)
    url = f"/admin/cases/case/{case.pk}/history/{first.history_id}/"
    page = editor_client.get(url).content.decode()
    assert "The case is the same as this version now." in page
    assert "Published" not in page
    editor_client.post(url)
    case.refresh_from_db()
    assert case.status == Status.PUBLISHED


def test_a_correction_note_is_saved_with_the_edit_and_listed_on_the_public_page(
    client, editor_client, editor
):
    # A publisher's edit of a published case goes live at once, with its note.
    case = CaseFactory(title="A published claim")
    publisher = make_user("publisher", "Publishers")
    editor_client.force_login(publisher)
    data = case_form_data(case, correction_note="The date of publication was corrected.")
    assert editor_client.post(change_url(case), data).status_code == 302
    note = CorrectionNote.objects.get(case=case)
    assert note.author == publisher and note.case_version == case.version + 1
    assert case.history.first().history_change_reason == note.text
    client.logout()
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Corrections" in html
    assert "The date of publication was corrected." in html
    assert note.created_at.strftime("%Y-%m-%d") in html


def test_a_case_page_without_corrections_has_no_corrections_section(client):
    case = CaseFactory()
    html = client.get(case.get_absolute_url()).content.decode()
    assert '<h2 id="corrections-heading">' not in html
    assert 'class="corrections"' not in html


def test_an_import_batch_is_the_first_entry_of_the_cases_it_created(
    seed_file, tmp_path, editor_client, editor
):
    csv_file = tmp_path / "more.csv"
    csv_file.write_text(
        "title,keywords,outlets,urls,archive_urls\n"
        "A claim with links,NATO;Protest,RT;,https://rt.example/a;https://x.example/b,;\n"
    )
    summary = save_cases(parse_file(seed_file) + parse_file(csv_file), user=editor)
    batch = summary.batch
    assert (batch.created, batch.updated, batch.unchanged) == (Case.objects.count(), 0, 0)
    # The batch lists the cases it created; no record is written for each.
    assert sorted(batch.case_ids) == sorted(Case.objects.values_list("id", flat=True))
    before, slugs = {}, dict(Case.objects.values_list("id", "slug"))
    for case in Case.objects.all():
        assert not case.history.exists() and history.batch_entry(case) == batch
        # Its first version is known: a later stale save can be merged against it.
        before[case.pk] = merge.snapshot_json(history.current_snapshot(case))
        assert merge.at_version(case, 1) == before[case.pk]
        assert merge.last_editor(case, 1) == editor
    page = editor_client.get(f"/admin/cases/case/{case.pk}/history/").content.decode()
    assert f"Import #{batch.pk}" in page and "unchanged since" in page

    recorded = {"keywords": 0, "appearances": 0}
    for case in Case.objects.all():
        # The first change writes the first version's record, as of the batch, then its own.
        save_case(case, title=case.title + " (edited)", reason="Typo")
        first, edit_record = case.history.order_by("history_date", "history_id")
        assert (edit_record.history_type, edit_record.history_change_reason) == ("~", "Typo")
        assert first.history_type == "+" and first.history_change_reason == f"Import #{batch.pk}"
        assert (first.history_date, first.history_user) == (batch.created_at, editor)
        assert (first.version, first.title) == (1, case.title.removesuffix(" (edited)"))
        assert first.slug == slugs[case.pk]
        assert sorted(first.keywords.values_list("keyword_id", flat=True)) == sorted(
            case.keywords.values_list("id", flat=True)
        )
        recorded["keywords"] += first.keywords.count()
        # The record's appearances are those of the case (what the history page shows).
        shown = history.appearances_at(case.pk, first.history_date)
        assert [(a.outlet_id, a.url) for a in shown] == list(
            case.appearances.values_list("outlet_id", "url")
        )
        recorded["appearances"] += len(shown)
        assert merge.at_version(case, 1) == before[case.pk]
        assert history.batch_entry(case) is None
    assert recorded["keywords"] > 0 and recorded["appearances"] > 0
    page = editor_client.get(f"/admin/cases/case/{case.pk}/history/").content.decode()
    assert f"Import #{batch.pk}" in page and "Typo" in page


def test_a_taxonomy_merge_or_a_delete_records_an_imported_case_as_it_was_first(seed_file):
    batch = save_cases(parse_file(seed_file)).batch
    case = Case.objects.filter(keywords__isnull=False).order_by("id").first()
    first_keywords = sorted(case.keywords.values_list("id", flat=True))
    keyword = Keyword.objects.get(pk=first_keywords[0])
    taxonomy.merge(KeywordFactory(name="Somewhere else"), [keyword])

    first = case.history.order_by("history_date", "history_id").first()
    assert first.history_change_reason == f"Import #{batch.pk}"
    assert sorted(first.keywords.values_list("keyword_id", flat=True)) == first_keywords

    other = Case.objects.exclude(pk__in=Case.history.values("id")).first()
    delete_case(other)
    assert [r.history_type for r in Case.history.filter(id=other.pk).order_by("history_date")] == [
        "+",
        "-",
    ]


def test_re_importing_the_same_file_writes_nothing(seed_file):
    save_cases(parse_file(seed_file))
    versions = dict(Case.objects.values_list("id", "version"))

    summary = save_cases(parse_file(seed_file))

    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, len(versions))
    assert summary.batch is None and ImportBatch.objects.count() == 1
    assert dict(Case.objects.values_list("id", "version")) == versions


class TestTwoEditors:
    """Two editors open the same case; the second one to save must not overwrite the first."""

    def test_a_field_only_the_other_editor_changed_keeps_their_value(self, client):
        """The form of the second editor still holds the old summary, a field they never
        touched: saving it keeps the first editor's summary, and adds their own title."""
        case = CaseFactory(status=Status.DRAFT, title="Shared title", summary="Old summary")
        alice, bob = make_user("alice", "Editors"), make_user("bob", "Editors")
        opened_by_alice = case_form_data(case)
        opened_by_bob = case_form_data(case)

        client.force_login(alice)
        alice_data = {**opened_by_alice, "summary": "Alice's summary"}
        assert client.post(change_url(case), alice_data).status_code == 302

        client.force_login(bob)
        bob_data = {**opened_by_bob, "title": "Bob's title"}
        response = client.post(change_url(case), bob_data, follow=True)
        assert "their changes to Summary were kept" in response.content.decode()
        case.refresh_from_db()
        assert case.title == "Bob's title" and case.summary == "Alice's summary"
        assert case.version == 3
        # Saving the same old form once more reverts nothing either.
        assert client.post(change_url(case), bob_data).status_code == 302
        case.refresh_from_db()
        assert case.title == "Bob's title" and case.summary == "Alice's summary"

    def test_a_field_both_changed_is_shown_side_by_side_and_the_saver_picks(self, client):
        case = CaseFactory(status=Status.DRAFT, title="Shared title", summary="Old summary")
        alice, bob = make_user("alice", "Editors"), make_user("bob", "Editors")
        alice.first_name, alice.last_name = "Alice", "Martin"
        alice.save()
        opened_by_alice = case_form_data(case)
        opened_by_bob = case_form_data(case)
        client.force_login(alice)
        client.post(change_url(case), {**opened_by_alice, "summary": "Alice's summary"})

        client.force_login(bob)
        bob_data = {**opened_by_bob, "summary": "Bob's summary", "title": "Bob's title"}
        response = client.post(change_url(case), bob_data)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Alice Martin saved version 2 while you were editing version 1" in html
        assert html.count('name="resolve-summary"') == 2
        assert "Alice&#x27;s summary" in html and "Bob&#x27;s summary" in html
        assert 'name="resolve-title"' not in html  # only Bob changed the title
        case.refresh_from_db()
        assert case.title == "Shared title" and case.summary == "Alice's summary"

        form = response.context["adminform"].form
        again = {
            **bob_data,
            "conflict_version": form["conflict_version"].value(),
            "resolve-summary": "theirs",
        }
        assert again["loaded_version"] == 1 and again["conflict_version"] == 2
        assert client.post(change_url(case), again).status_code == 302
        case.refresh_from_db()
        assert case.title == "Bob's title" and case.summary == "Alice's summary"

    def test_picking_yours_takes_the_savers_value(self, client):
        case = CaseFactory(status=Status.DRAFT, summary="Old summary")
        alice, bob = make_user("alice", "Editors"), make_user("bob", "Editors")
        opened = case_form_data(case)
        client.force_login(alice)
        client.post(change_url(case), {**opened, "summary": "Alice's summary"})
        client.force_login(bob)
        data = {**opened, "summary": "Bob's summary", "conflict_version": 2}
        assert client.post(change_url(case), {**data, "resolve-summary": "mine"}).status_code == 302
        case.refresh_from_db()
        assert case.summary == "Bob's summary"

    def test_a_choice_made_on_an_older_conflict_does_not_apply_to_a_newer_one(self, client):
        case = CaseFactory(status=Status.DRAFT, summary="Old summary")
        alice, bob = make_user("alice", "Editors"), make_user("bob", "Editors")
        opened = case_form_data(case)
        client.force_login(alice)
        client.post(change_url(case), {**opened, "summary": "Alice's summary"})
        edit(case, summary="A third summary")  # version 3, after Bob saw version 2
        client.force_login(bob)
        data = {**opened, "summary": "Bob's summary", "conflict_version": 2}
        response = client.post(change_url(case), {**data, "resolve-summary": "mine"})
        assert response.status_code == 200 and "A third summary" in response.content.decode()
        case.refresh_from_db()
        assert case.summary == "A third summary"

    def test_a_save_without_a_version_is_refused(self, editor_client):
        case = CaseFactory(status=Status.DRAFT)
        data = case_form_data(case, title="Changed")
        del data["loaded_version"]
        assert editor_client.post(change_url(case), data).status_code == 200
        case.refresh_from_db()
        assert case.title != "Changed"

    def test_changes_since_lists_what_changed_after_a_version(self):
        case = CaseFactory(status=Status.DRAFT, title="One")
        history.record_now(case)
        version = case.version
        edit(case, title="Two")
        assert history.changes_since(case, version) == [("Title", "One", "Two")]
        assert history.changes_since(case, 999) is None


def test_a_textarea_posted_with_crlf_line_ends_is_not_recorded_as_a_change(editor_client):
    case = CaseFactory(status=Status.DRAFT, summary="One.\n\nTwo.", disproof="Three.\n\nFour.")
    data = case_form_data(case, summary="One.\r\n\r\nTwo.", disproof="Three.\r\n\r\nFour.")
    version = case.version
    assert editor_client.post(change_url(case), data).status_code == 302
    case.refresh_from_db()
    assert case.summary == "One.\n\nTwo."
    # Nothing changed: no new version and no history entry.
    assert case.version == version
    assert case.history.count() == 1


# The readable history: word diffs, added and removed values, who and why

LONG_SUMMARY = " ".join(
    [
        "The outlet claimed that the governments of the Baltic states had secretly agreed",
        "to hand their countries over to a foreign administration before the end of the",
        "year. It quoted an unnamed official who said that the agreement had been signed",
        "in Brussels and that the parliaments would not be asked. The article repeated a",
        "recurring narrative about the sovereignty of the Baltic states and their",
        "membership of NATO, and it gave no source for any of its statements.",
    ]
)


def test_a_one_word_change_in_a_long_summary_marks_only_that_word():
    changed = LONG_SUMMARY.replace("Brussels", "Riga")
    html = history.word_diff(LONG_SUMMARY, changed)
    assert html.count("<del>") == 1 and html.count("<ins>") == 1
    assert "<del>Brussels</del><ins>Riga</ins>" in html
    # The words around the change are kept; the long unchanged stretches are elided, so
    # the text is not shown whole, let alone twice.
    assert "signed in <del>" in html and "</ins> and that the parliaments" in html
    assert html.count('class="diff-gap"') == 2
    assert "governments of the Baltic" not in html and "gave no source" not in html
    assert len(html) < len(LONG_SUMMARY)
    # Without elision the text is there once, whole.
    whole = history.word_diff(LONG_SUMMARY, changed, context=None)
    assert whole.count("governments of the Baltic") == 1 and "diff-gap" not in whole


def test_the_word_diff_marks_added_and_removed_words_and_keeps_punctuation_apart():
    assert history.word_diff("Signed in Brussels.", "Signed in Riga.") == (
        "Signed in <del>Brussels</del><ins>Riga</ins>."
    )
    assert history.word_diff("a foreign administration", "a foreign administration, says X") == (
        "a foreign administration<ins>, says X</ins>"
    )
    assert history.word_diff("one two three", "one three") == "one <del>two </del>three"
    # Neighbouring changed words are one change, not a word-by-word alternation.
    assert history.word_diff("a b c d", "a x y d") == "a <del>b c</del><ins>x y</ins> d"
    assert history.word_diff("", "New text") == "<ins>New text</ins>"


def test_the_word_diff_escapes_html_in_the_texts():
    old = 'Say "<i>yes</i>" & <b>go</b> now'
    new = 'Say "<i>yes</i>" & <script>alert(1)</script> now'
    html = history.word_diff(old, new)
    for raw in ("<i>", "<b>", "<script>", '"<'):
        assert raw not in html
    assert "&quot;&lt;i&gt;yes&lt;/i&gt;&quot; &amp; &lt;<del>b&gt;go&lt;/b</del>" in html
    assert "<ins>script&gt;alert(1)&lt;/script</ins>&gt; now" in html


@pytest.mark.parametrize(
    "old, new",
    [
        ('Say "<i>yes</i>" & <b>go</b> now', 'Say "<i>yes</i>" & <script>alert(1)</script>'),
        ("One.\n\nTwo three, four.", "One.\n\nTwo five, four and six."),
        ("", "Only new <text>"),
        ("Only old & gone", ""),
        ("a b c d e f", "f e d c b a"),
    ],
)
def test_the_word_diff_holds_both_texts_exactly(old, new):
    html = history.word_diff(old, new, context=None)
    assert unescape(re.sub(r"<del>.*?</del>|</?ins>", "", html, flags=re.S)) == new
    assert unescape(re.sub(r"<ins>.*?</ins>|</?del>", "", html, flags=re.S)) == old


def test_link_fields_appearances_and_values_show_what_was_added_and_removed():
    nato, eu, ukraine = (KeywordFactory(name=name) for name in ("NATO", "EU", "Ukraine"))
    case = CaseFactory(status=Status.DRAFT, keywords=[nato, eu])
    AppearanceFactory(case=case, url="https://old.example/a", archive_url="")
    history.record_now(case)
    issue = IssueFactory()
    outlet = OutletFactory(name="Sputnik")
    edit(
        case,
        keywords=[eu, ukraine],
        date=datetime.date(2022, 2, 1),
        issue=issue,
        status=Status.IN_REVIEW,
        appearances=[(outlet.pk, "https://new.example/b", "")],
    )
    rows = dict(history.readable_changes_in(case.history.first()))
    assert rows["Keywords"] == (
        '<ul class="diff-values"><li><ins>+ Ukraine</ins></li><li><del>− NATO</del></li></ul>'
    )
    assert "EU" not in rows["Keywords"]  # kept: not listed
    assert "<ins>+ Sputnik https://new.example/b</ins>" in rows["Appearances"]
    assert "<del>− " in rows["Appearances"] and "https://old.example/a</del>" in rows["Appearances"]
    arrow = '<span class="diff-arrow">→</span>'
    assert rows["Date of publication"] == f"2022-01-10 {arrow} 2022-02-01"
    assert rows["Issue"] == f"(none) {arrow} {issue}"
    assert rows["Status"] == f"Draft {arrow} In review"
    assert set(rows) == {"Keywords", "Appearances", "Date of publication", "Issue", "Status"}


def history_rows(html):
    """The history page's rows, by version."""
    rows = re.findall(r'<tr>\s*<th scope="row" class="history-version">((\d+).*?</tr>)', html, re.S)
    return {int(version): row for row, version in rows}


def test_the_history_page_shows_the_editor_the_reason_and_the_correction_note(client):
    editor = make_user("erin", "Publishers")
    editor.first_name, editor.last_name = "Erin", "Example"
    editor.save()
    plain = make_user("sam", "Editors")
    case = CaseFactory(summary=LONG_SUMMARY, status=Case.Status.DRAFT)
    save_case(
        case, user=plain, reason="Fixed the quote", summary=LONG_SUMMARY.replace("Brussels", "Riga")
    )
    save_case(case, user=editor, correction_note="The date of publication was wrong.", date=None)
    client.force_login(editor)
    response = client.get(f"/admin/cases/case/{case.pk}/history/")
    assert response.status_code == 200
    html = response.content.decode()
    rows = history_rows(html)
    assert set(rows) == {1, 2, 3}
    # Version 3: the editor's full name and the note of that version, once (the reason
    # save_case recorded is the note itself, so it is not repeated).
    assert "Erin Example" in rows[3]
    assert "Public correction note:</strong> The date of publication was wrong." in rows[3]
    assert html.count("The date of publication was wrong.") == 1
    # Version 2: the username (no full name), the reason, one word changed, no note.
    assert '<td class="history-editor">sam</td>' in rows[2]
    assert '<p class="history-reason">Fixed the quote</p>' in rows[2]
    assert "<del>Brussels</del><ins>Riga</ins>" in rows[2]
    assert rows[2].count(LONG_SUMMARY[:40]) == 0
    assert "correction note:" not in rows[2]
    # Version 1, made without a user: "system", and no reason shown instead of "None".
    assert '<td class="history-editor">system</td>' in rows[1]
    assert "history-reason" not in rows[1]
    assert "None" not in html
    # Each version still links to its compare/revert page.
    for record in case.history.all():
        assert f"/admin/cases/case/{case.pk}/history/{record.history_id}/" in html


def test_an_import_without_a_user_is_shown_as_import(editor_client):
    case = CaseFactory()
    save_case(case, reason="Imported", title="Imported again")
    html = editor_client.get(f"/admin/cases/case/{case.pk}/history/").content.decode()
    assert '<td class="history-editor">import</td>' in history_rows(html)[2]
    assert '<p class="history-reason">Imported</p>' in history_rows(html)[2]


def test_a_long_correction_note_is_saved_whole_and_its_reason_shortened(editor_client):
    note = "The date of publication was wrong: " + "the article appeared a week earlier. " * 8
    case = CaseFactory(status=Case.Status.DRAFT)
    data = case_form_data(case, correction_note=note)
    assert editor_client.post(change_url(case), data).status_code == 302
    assert CorrectionNote.objects.get(case=case).text == note.strip()
    reason = case.history.first().history_change_reason
    assert len(reason) == 100 and reason.endswith("…") and note.startswith(reason[:-1])
    html = editor_client.get(f"/admin/cases/case/{case.pk}/history/").content.decode()
    assert html.count("The date of publication was wrong") == 1
    assert "history-reason" not in history_rows(html)[2]
