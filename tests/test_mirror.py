"""A partner mirrors the database from a dump, then follows the changes feed, and ends
equal to a fresh full copy.

The partner does what docs/api.md's "Mirror and stay in sync" recipe says: reads
/data/index.json, downloads the NDJSON dump, checks its sha256, loads it, and follows
/api/v1/changes/ from the dump's seq. Meanwhile editors create, edit, rename (cases and
taxonomy values), withdraw, unpublish and delete cases, all through the write path
(cases.services). Every test commits (transaction=True): the feed and the dumps show
committed data only.
"""

import gzip
import hashlib
import json

import pytest

from cases.dumps.build import build_dumps
from cases.models import Case
from cases.services import editing, taxonomy
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    KeywordFactory,
    OutletFactory,
    edit,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def dumps_dir(settings, tmp_path):
    settings.DUMPS_DIR = tmp_path / "dumps"
    # The dump's case URLs as the API's, answered to the test client.
    settings.SITE_URL = "http://testserver"
    return settings.DUMPS_DIR


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content)


class Partner:
    """A partner tool keeping a copy of the published cases, by id."""

    def __init__(self, client):
        self.client = client
        self.mirror = {}
        self.since = None

    def load_dump(self):
        index = self.client.get("/data/index.json").json()
        (entry,) = [f for f in index["files"] if f["name"] == "cases.ndjson.gz"]
        body = download(self.client, entry["url"].removeprefix("http://testserver"))
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
        self.mirror = {}
        for line in gzip.decompress(body).decode().splitlines():
            case = json.loads(line)
            self.mirror[case["id"]] = case
        self.since = entry["seq"]

    def follow_changes(self, limit=2):
        """Read the feed from where the partner stands until nothing is pending."""
        applied = 0
        for _ in range(1000):
            body = self.client.get(f"/api/v1/changes/?since={self.since}&limit={limit}").json()
            for entry in body["results"]:
                if entry["deleted"]:
                    self.mirror.pop(entry["id"], None)
                else:
                    self.mirror[entry["id"]] = entry["case"]
                applied += 1
            self.since = body["last_seq"]
            if body["pending"] == 0:
                return applied
        raise AssertionError("The feed never ran out.")


def api_copy(client):
    """Every published case, from the API list, page after page."""
    copy, url = {}, "/api/v1/cases/?page_size=3"
    while url:
        body = client.get(url).json()
        copy.update({case["id"]: case for case in body["results"]})
        url = body["next"] and body["next"].removeprefix("http://testserver")
    return copy


def dump_copy(client):
    build_dumps()
    fresh = Partner(client)
    fresh.load_dump()
    return fresh.mirror


def test_a_partner_mirroring_from_a_dump_then_the_changes_feed_ends_equal_to_a_fresh_copy(
    client,
):
    nato = KeywordFactory(name="NATO")
    ukraine = CountryFactory(name="Ukraine")
    truth = OutletFactory(name="Daily Truth")
    edited, retitled_related, withdrawn, unpublished, deleted, untouched = (
        CaseFactory(title=f"Case {n}", keywords=[nato], countries=[ukraine]) for n in range(6)
    )
    AppearanceFactory(case=untouched, outlet=truth)
    edited.related.add(retitled_related)
    waiting = CaseFactory(title="A draft published later", status=Case.Status.DRAFT)
    CaseFactory(title="A draft that stays a draft", status=Case.Status.DRAFT, keywords=[nato])
    build_dumps()

    partner = Partner(client)
    partner.load_dump()
    assert set(partner.mirror) == {
        edited.pk,
        retitled_related.pk,
        withdrawn.pk,
        unpublished.pk,
        deleted.pk,
        untouched.pk,
    }

    # Editors at work, through the write path.
    created = CaseFactory(title="A new case", keywords=[nato])
    edit(edited, title="Case 0, corrected", summary="Corrected.")
    edit(retitled_related, title="Case 1, retitled")  # `edited` shows its title
    nato.name = "North Atlantic Treaty Organization"
    taxonomy.save_value(nato)  # every case showing the keyword changes
    truth.name = "The Daily Truth"
    taxonomy.save_value(truth)
    edit(withdrawn, status=Case.Status.WITHDRAWN, withdrawal_reason="Not disinformation.")
    edit(unpublished, status=Case.Status.DRAFT)
    editing.delete_case(deleted)
    edit(waiting, status=Case.Status.PUBLISHED)
    doomed = CaseFactory(title="Published and deleted between two syncs")
    editing.delete_case(doomed)

    assert partner.follow_changes() > 0
    assert partner.mirror == api_copy(client) == dump_copy(client)
    assert set(partner.mirror) == {
        edited.pk,
        retitled_related.pk,
        untouched.pk,
        created.pk,
        waiting.pk,
    }
    assert partner.mirror[edited.pk]["title"] == "Case 0, corrected"
    assert partner.mirror[edited.pk]["related"][0]["title"] == "Case 1, retitled"
    assert partner.mirror[untouched.pk]["keywords"][0]["name"] == (
        "North Atlantic Treaty Organization"
    )
    assert partner.mirror[untouched.pk]["appearances"][0]["outlet"]["name"] == "The Daily Truth"

    # Later changes reach the same partner from where it stopped; a quiet feed brings none.
    assert partner.follow_changes() == 0
    edit(unpublished, status=Case.Status.PUBLISHED)
    ukraine.name = "Ukraine (renamed)"
    taxonomy.save_value(ukraine)
    partner.follow_changes()
    assert partner.mirror == api_copy(client) == dump_copy(client)
    assert unpublished.pk in partner.mirror


def test_a_partner_mirroring_from_an_empty_dump_catches_up_from_the_feed(client):
    build_dumps()
    partner = Partner(client)
    partner.load_dump()
    assert partner.mirror == {}

    first = CaseFactory(title="The first case")
    CaseFactory(title="A draft", status=Case.Status.DRAFT)
    partner.follow_changes()

    assert set(partner.mirror) == {first.pk}
    assert partner.mirror == api_copy(client) == dump_copy(client)
