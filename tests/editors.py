"""Helpers for the editors' workflow tests: users in the Editors and Publishers groups,
and the POST data of the case admin form."""

from django.contrib.auth.models import Group, User


def make_user(username, group=None, superuser=False):
    user = User.objects.create_user(username, f"{username}@example.org", "pw", is_staff=True)
    if superuser:
        user.is_superuser = True
        user.save()
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def case_form_data(case, **changes):
    """What the admin change form posts for `case` unchanged, with `changes` applied."""
    data = {
        "title": case.title,
        "summary": case.summary,
        "disproof": case.disproof,
        "status": case.status,
        "withdrawal_reason": case.withdrawal_reason,
        "date": case.date.isoformat() if case.date else "",
        "issue": case.issue_id or "",
        "languages": [pk for pk in case.languages.values_list("pk", flat=True)],
        "countries": [pk for pk in case.countries.values_list("pk", flat=True)],
        "keywords": [pk for pk in case.keywords.values_list("pk", flat=True)],
        "related": [pk for pk in case.related.values_list("pk", flat=True)],
        "loaded_version": case.version,
        "correction_note": "",
    }
    appearances = list(case.appearances.order_by("id"))
    data["appearances-TOTAL_FORMS"] = len(appearances)
    data["appearances-INITIAL_FORMS"] = len(appearances)
    for i, appearance in enumerate(appearances):
        data[f"appearances-{i}-id"] = appearance.pk
        data[f"appearances-{i}-case"] = case.pk
        data[f"appearances-{i}-outlet"] = appearance.outlet_id or ""
        data[f"appearances-{i}-url"] = appearance.url
        data[f"appearances-{i}-archive_url"] = appearance.archive_url
    references = list(case.pending_references.order_by("id"))
    data["pending_references-TOTAL_FORMS"] = len(references)
    data["pending_references-INITIAL_FORMS"] = len(references)
    for i, reference in enumerate(references):
        data[f"pending_references-{i}-id"] = reference.pk
        data[f"pending_references-{i}-case"] = case.pk
        data[f"pending_references-{i}-title"] = reference.title
    notes = list(case.correction_notes.order_by("id"))
    data["correction_notes-TOTAL_FORMS"] = len(notes)
    data["correction_notes-INITIAL_FORMS"] = len(notes)
    for i, note in enumerate(notes):
        data[f"correction_notes-{i}-id"] = note.pk
        data[f"correction_notes-{i}-case"] = case.pk
        data[f"correction_notes-{i}-text"] = note.text
    data.update(changes)
    return data


def new_case_data(**fields):
    data = {
        "title": "",
        "summary": "",
        "disproof": "",
        "status": "draft",
        "withdrawal_reason": "",
        "date": "",
        "issue": "",
        "appearances-TOTAL_FORMS": 0,
        "appearances-INITIAL_FORMS": 0,
        "pending_references-TOTAL_FORMS": 0,
        "pending_references-INITIAL_FORMS": 0,
        "correction_notes-TOTAL_FORMS": 0,
        "correction_notes-INITIAL_FORMS": 0,
    }
    data.update(fields)
    return data


def change_url(case):
    return f"/admin/cases/case/{case.pk}/change/"
