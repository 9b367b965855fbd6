"""What the API answers for a change that does not go live as sent.

- A change made on an older version (`base_version`) that both it and the newer version
  changed in different ways: 409 Conflict, listing those fields (conflict_body()).
- A change of a published case by a user without publish rights: 202 Accepted, the
  pending revision a publisher reviews (proposed_body()); the live case is unchanged.

Both describe fields in snapshot JSON (cases.services.merge). Here they get the API's
field names and the values a client writes: the issue number, slugs, language codes, case
ids, and appearances with their outlet's slug.
"""

from rest_framework import serializers

from cases import history
from cases.api.serializers import CaseWriteSerializer
from cases.models import Issue, Outlet

# The API's name of a snapshot field, where it differs.
API_NAMES = {"issue_id": "issue"}
# What the API refers to each linked value by.
LINK_KEYS = {"languages": "code", "countries": "slug", "keywords": "slug", "related": "pk"}

PROPOSED = (
    "The case is published: your change waits for review by a publisher; "
    "the live case is unchanged."
)


def api_name(name):
    return API_NAMES.get(name, name)


def field_position(name):
    """Where the API lists a snapshot field: in the write serializer's order (PostgreSQL's
    jsonb, which revisions are stored in, keeps no order of its own)."""
    order = CaseWriteSerializer.Meta.fields
    name = api_name(name)
    return (order.index(name), name) if name in order else (len(order), name)


def api_value(name, value):
    """A snapshot JSON value as the API writes it. Values deleted since are left out."""
    if value is None:
        return None
    if name == "issue_id":
        return Issue.objects.filter(pk=value).values_list("number", flat=True).first()
    if name in history.LINK_MODELS:
        model = history.LINK_MODELS[name]
        found = dict(model.objects.filter(pk__in=value).values_list("pk", LINK_KEYS[name]))
        return [found[pk] for pk in value if pk in found]
    if name == "appearances":
        outlet_ids = [outlet_id for outlet_id, _, _ in value if outlet_id]
        outlets = dict(Outlet.objects.filter(pk__in=outlet_ids).values_list("pk", "slug"))
        return [
            {"outlet": outlets.get(outlet_id), "url": url, "archive_url": archive_url}
            for outlet_id, url, archive_url in value
        ]
    return value


def _listed(names):
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def conflict_body(conflict):
    """The 409 answer to a merge that found fields both sides changed (EditConflict)."""
    conflicts = sorted(conflict.conflicts, key=lambda item: field_position(item.name))
    names = [api_name(item.name) for item in conflicts]
    editor = conflict.editor
    by = f", saved by {editor.get_username()}" if editor is not None else ""
    fields = _listed(names) if names else "a field"
    verb = "was" if len(names) <= 1 else "were"
    detail = (
        f"Case {conflict.case.pk} changed since version {conflict.expected} (it is now at "
        f"version {conflict.current}{by}): {fields} {verb} changed by both you and the newer "
        f"version. Nothing was written: read the case again, and send the values you want "
        f"with base_version {conflict.current}."
    )
    return {
        "status": 409,
        "errors": [
            {"field": name, "message": f"Changed by both you and version {conflict.current}."}
            for name in names
        ],
        "detail": detail,
        "current_version": conflict.current,
        "conflicts": {
            api_name(item.name): {
                "base": api_value(item.name, item.base),
                "current": api_value(item.name, item.theirs),
                "yours": api_value(item.name, item.mine),
            }
            for item in conflicts
        },
    }


def revision_body(revision):
    """A pending revision as the API shows it (schema: cases.api.schema.PROPOSED)."""
    moment = serializers.DateTimeField()
    changed = sorted(revision.changes, key=field_position)
    return {
        "id": revision.pk,
        "case": revision.case_id,
        "status": revision.status,
        "base_version": revision.base_version,
        "fields": [api_name(name) for name in changed],
        "changes": {api_name(name): api_value(name, revision.changes[name]) for name in changed},
        "created_at": moment.to_representation(revision.created_at),
        "updated_at": moment.to_representation(revision.updated_at),
    }


def proposed_body(revision):
    """The 202 answer to a change that became a pending revision."""
    return {"detail": PROPOSED, "revision": revision_body(revision)}
