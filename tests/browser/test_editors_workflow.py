"""An editor and a publisher, as new users in a real browser, take a pasted case from
draft to published; and a second editor's stale save is refused without losing anything.

Screenshots go to test-artifacts/.
"""

import importlib

import pytest
from django.contrib.auth.models import Group, Permission

from cases.models import Case, Issue
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASTED = """Disinfo: The Baltic states will be handed over to a foreign administration


The outlet claimed that the governments of the Baltic states had secretly agreed to hand \
their countries over to a foreign administration.


No such agreement exists. The claim repeats a recurring narrative about the Baltic \
states' sovereignty.

  \u2022 Reported in: Issue 301
  \u2022 DATE OF PUBLICATION: 12/03/2023
  \u2022 Article language(s) Russian
  \u2022 Countries and/or Regions discussed in the disinformation: Latvia, Baltic states
  \u2022 Keywords: Sovereignty
see more
"""


def ensure_groups():
    """Transactional tests flush the database, and the groups with it: recreate them."""
    migration = importlib.import_module("cases.migrations.0006_editor_groups")
    for name, codenames in (
        ("Editors", migration.EDITOR_PERMISSIONS),
        ("Publishers", migration.PUBLISHER_PERMISSIONS),
    ):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
        )


def new_user(username, group):
    from django.contrib.auth.models import User

    user = User.objects.create_user(username, password="a long passphrase", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def browser(chromium):
    """Each user gets a context of their own (their own cookies) in the shared Chromium."""
    contexts = []

    class Browser:
        def new_context(self, **kwargs):
            context = chromium.new_context(**kwargs)
            contexts.append(context)
            return context

    yield Browser()
    for context in contexts:
        context.close()


def log_in(browser, live_server, username):
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "a long passphrase")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    return page


def shot(page, name):
    save_screenshot(page, f"editors-{name}")


def confirm_move(page, label):
    """Click a workflow button on the case form, then confirm on the page it opens."""
    page.click(f".workflow-actions a:text-is('{label}')")
    page.wait_for_selector(".workflow-question")
    page.click(f".workflow-confirm input[type=submit][value='{label}']")
    page.wait_for_selector(".messagelist .success")
    return page.inner_text(".messagelist")


def test_an_editor_and_a_publisher_take_a_pasted_case_to_published(browser, live_server):
    ensure_groups()
    new_user("erin", "Editors")
    new_user("paul", "Publishers")

    editor = log_in(browser, live_server, "erin")
    editor.goto(f"{live_server.url}/admin/cases/case/")
    editor.click("text=Paste import")
    editor.wait_for_selector("#id_text")
    editor.fill("#id_text", PASTED)
    editor.click("input[name=preview]")
    editor.wait_for_selector(".import-preview")
    assert "Sovereignty (new)" in editor.inner_text(".import-preview")
    assert Case.objects.count() == 0, "nothing is written before confirmation"
    shot(editor, "1-paste-preview")

    editor.click("input[name=confirm]")
    editor.wait_for_selector("text=Paste import saved: new draft")
    case = Case.objects.get()
    assert case.status == Case.Status.DRAFT
    assert editor.url.endswith(f"/admin/cases/case/{case.pk}/change/"), "lands on the draft"

    labels = editor.eval_on_selector_all(".workflow-actions a", "as => as.map(a => a.textContent)")
    assert labels == ["Submit for review"], "an editor cannot publish"
    assert "Submitted “" in confirm_move(editor, "Submit for review")
    case.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW and case.submitted_by.username == "erin"
    shot(editor, "2-submitted")

    anonymous = browser.new_context().new_page()
    assert anonymous.goto(f"{live_server.url}/cases/{case.pk}/").status == 404

    publisher = log_in(browser, live_server, "paul")
    publisher.goto(f"{live_server.url}/admin/cases/case/")
    assert "1 case and 0 revisions" in publisher.inner_text(".review-queue")
    publisher.click(".review-queue a")
    publisher.wait_for_selector(".review-queue-page")
    assert "erin" in publisher.inner_text(".review-cases")
    shot(publisher, "3-review-queue")
    publisher.click(".review-cases a:text-is('Approve and publish')")
    publisher.wait_for_selector(".workflow-question")
    publisher.click(".workflow-confirm input[type=submit]")
    publisher.wait_for_selector(".messagelist .success")
    assert "it is live on the public site" in publisher.inner_text(".messagelist")
    assert "Published by paul" in publisher.inner_text(".workflow-record, .field-workflow_record")
    case.refresh_from_db()
    assert case.status == Case.Status.PUBLISHED and case.published_at is not None

    anonymous.goto(f"{live_server.url}/cases/{case.pk}/")
    assert anonymous.inner_text("h1") == case.title
    shot(anonymous, "4-public-page")


def test_an_editors_change_to_a_published_case_goes_live_only_when_approved(browser, live_server):
    ensure_groups()
    new_user("erin", "Editors")
    new_user("paul", "Publishers")
    case = Case.objects.create(
        title="A published claim about the Baltic states",
        summary="The live summary.",
        status="published",
    )
    public_url = f"{live_server.url}/cases/{case.pk}/"
    anonymous = browser.new_context().new_page()

    editor = log_in(browser, live_server, "erin")
    editor.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")
    assert "your changes will wait for review" in editor.inner_text(".revision-notice")
    editor.fill("#id_summary", "The corrected summary.")
    editor.fill("#id_change_reason", "The outlet's wording was misquoted.")
    editor.click("input[name=_save]")
    editor.wait_for_selector(".messagelist .success")
    assert "wait for review as revision" in editor.inner_text(".messagelist")

    anonymous.goto(public_url)
    body = anonymous.inner_text("main")
    assert "The live summary." in body and "The corrected summary." not in body

    publisher = log_in(browser, live_server, "paul")
    publisher.goto(f"{live_server.url}/admin/cases/case/review/")
    revision = publisher.locator(".revision").first
    diff = revision.inner_text()
    assert "The live summary." in diff and "The corrected summary." in diff
    assert "The outlet's wording was misquoted." in diff
    shot(publisher, "5-revision-in-queue")
    revision.locator("button:text-is('Approve and publish')").click()
    publisher.wait_for_selector(".messagelist .success")
    assert "is live with the changes" in publisher.inner_text(".messagelist")

    anonymous.goto(public_url)
    assert "The corrected summary." in anonymous.inner_text("main")
    feed = anonymous.goto(f"{live_server.url}/api/v1/changes/?since=0&format=json").json()
    entry = next(item for item in feed["results"] if item["id"] == case.pk)
    assert entry["case"]["summary"] == "The corrected summary."


def test_two_editors_saving_the_same_case_lose_nothing(browser, live_server):
    ensure_groups()
    new_user("alice", "Editors")
    new_user("bob", "Editors")
    case = Case.objects.create(
        title="A claim two editors work on", summary="The first summary.", status="draft"
    )
    url = f"{live_server.url}/admin/cases/case/{case.pk}/change/"

    alice = log_in(browser, live_server, "alice")
    bob = log_in(browser, live_server, "bob")
    alice.goto(url)
    bob.goto(url)

    alice.fill("#id_summary", "Alice rewrote the summary.")
    alice.click("input[name=_save]")
    alice.wait_for_selector(".messagelist .success")

    # Bob's form still holds the first summary, a field he never touched.
    bob.fill("#id_title", "Bob's better title")
    bob.click("input[name=_save]")
    bob.wait_for_selector(".messagelist .success")
    assert "their changes to Summary were kept" in bob.inner_text(".messagelist")
    case.refresh_from_db()
    assert (case.title, case.summary) == ("Bob's better title", "Alice rewrote the summary.")

    # Both change the summary: Bob sees both side by side and picks.
    alice.goto(url)
    bob.goto(url)
    alice.fill("#id_summary", "Alice's second summary.")
    alice.click("input[name=_save]")
    alice.wait_for_selector(".messagelist .success")
    bob.fill("#id_summary", "Bob's summary.")
    bob.click("input[name=_save]")
    bob.wait_for_selector(".case-conflict")
    conflict = bob.inner_text(".case-conflict")
    assert "alice saved version" in conflict
    assert "Alice's second summary." in conflict and "Bob's summary." in conflict
    shot(bob, "6-conflict-side-by-side")
    case.refresh_from_db()
    assert case.summary == "Alice's second summary."
    bob.check("input[name=resolve-summary][value=mine]")
    bob.click("input[name=_save]")
    bob.wait_for_selector(".messagelist .success")
    case.refresh_from_db()
    assert (case.title, case.summary) == ("Bob's better title", "Bob's summary.")


def test_the_case_form_fits_the_window_and_a_withdrawal_asks_its_reason(browser, live_server):
    from cases.models import Appearance
    from tests.factories import CaseFactory, OutletFactory

    ensure_groups()
    new_user("carol", "Publishers")
    case = CaseFactory(title="A claim with a long headline about the Baltic states' sovereignty")
    outlet = OutletFactory(name="An outlet with a rather long name, as real outlets have")
    Appearance.objects.create(
        case=case,
        outlet=outlet,
        url="https://www.example.org/a/very/long/path/of/an/article/about/the/claim/" * 2,
        archive_url="https://web.archive.org/web/20230312000000/https://www.example.org/a",
    )
    page = log_in(browser, live_server, "carol")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    for field in ("id_title", "id_summary"):
        left, right = page.evaluate(
            f"(() => {{ const box = document.getElementById('{field}')"
            ".getBoundingClientRect(); return [box.left, box.right]; })()"
        )
        assert right - left >= 600, f"{field} is {right - left:.0f} px wide"
        assert left >= 0 and right <= 1366, f"{field} runs out of the window"
    assert not page.is_visible("#id_withdrawal_reason"), "no reason box on the form"
    shot(page, "7-case-form")
    page.click(".workflow-actions a:text-is('Withdraw')")
    page.wait_for_selector(".workflow-question")
    assert "410 Gone" in page.inner_text(".workflow-question")
    assert page.get_attribute("#id_note", "required") is not None
    page.fill("#id_note", "A duplicate of an earlier case.")
    page.click(".workflow-confirm input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    case.refresh_from_db()
    assert case.status == Case.Status.WITHDRAWN
    assert case.withdrawal_reason == "A duplicate of an earlier case."


def test_the_issue_box_finds_any_issue_and_keeps_the_other_filters(browser, live_server):
    from tests.factories import CaseFactory, IssueFactory

    ensure_groups()
    new_user("carol", "Publishers")
    for number in range(260, 275):
        CaseFactory(title=f"A claim of issue {number}", issue=IssueFactory(number=number))
    CaseFactory(title="A draft of issue 263", issue=Issue.objects.get(number=263), status="draft")
    page = log_in(browser, live_server, "carol")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/cases/case/?status__exact=published&q=claim")

    sidebar = page.locator("#changelist-filter details[data-filter-title=issue]")
    assert sidebar.locator("li a").all_inner_texts() == ["All issues"] + [
        f"Issue {n}" for n in range(274, 269, -1)
    ]
    page.get_by_label("Issue number", exact=True).fill("263")  # older than the issues listed
    sidebar.locator("input[type=submit]").click()
    page.wait_for_url("**issue=263**")

    assert page.locator("#result_list tbody th a").all_inner_texts() == ["A claim of issue 263"]
    assert "status__exact=published" in page.url and "q=claim" in page.url
    assert page.get_by_label("Issue number", exact=True).input_value() == "263"
    shot(page, "8-issue-filter")
    sidebar.get_by_role("link", name="All issues").click()
    page.wait_for_url(lambda url: "issue=" not in url)
    assert page.locator("#result_list tbody tr").count() == 15


def test_the_case_form_fills_its_possible_duplicates_after_it_shows(browser, live_server):
    """The form shows at once with a link to the case's look-alikes; its script puts the
    list in the form, drafts included (static/cases/admin/case_form.js)."""
    from tests.factories import CaseFactory

    ensure_groups()
    new_user("erin", "Editors")
    case = CaseFactory(title="NATO is preparing an attack on Russia")
    draft = CaseFactory(title="NATO prepares an attack on Russia", status=Case.Status.DRAFT)
    alone = CaseFactory(title="Vaccines contain microchips", summary="Chips in vaccines.")

    editor = log_in(browser, live_server, "erin")
    fragments = []
    editor.on("request", lambda r: "/duplicates/" in r.url and fragments.append(r.url))
    editor.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")
    editor.wait_for_selector("#similar-cases.loaded li")
    listed = editor.inner_text("#similar-cases")
    assert f"#{draft.pk} NATO prepares an attack on Russia" in listed and "Draft" in listed
    assert "existing cases that look like this one" not in listed, "the link gave way"
    href = editor.get_attribute("#similar-cases li a", "href")
    assert href.endswith(f"/admin/cases/case/{draft.pk}/change/")
    assert fragments == [f"{live_server.url}/admin/cases/case/{case.pk}/duplicates/?fragment=1"]
    shot(editor, "possible-duplicates")

    # A case like no other: the section goes away once its empty list comes.
    editor.goto(f"{live_server.url}/admin/cases/case/{alone.pk}/change/")
    editor.wait_for_selector("#similar-cases.loaded.empty", state="attached")
    assert not editor.is_visible("#similar-cases")
