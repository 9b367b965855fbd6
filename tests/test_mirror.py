"""A partner mirrors the database from a dump, then follows the changes feed or webhooks,
and ends equal to a fresh full copy.

The partner does what docs/api.md's "Mirror and stay in sync" recipe says: reads
/data/index.json, downloads the NDJSON dump, checks its sha256, loads it, and follows
/api/v1/changes/ from the dump's seq. A second copy is kept by webhooks: its endpoint (a
real local HTTP server verifying every signature) is subscribed, the dump loaded, the feed
read from the dump's seq up to the present (covering what happened before the webhooks
began), and then each event applied unless the copy already has that case at a later seq.
Meanwhile editors create, edit, rename (cases and
taxonomy values), withdraw, unpublish and delete cases, all through the write path
(cases.services). Every test commits (transaction=True): the feed and the dumps show
committed data only.
"""

import gzip
import hashlib
import json

import pytest

from cases import webhooks
from cases.dumps.build import build_dumps
from cases.models import Case, WebhookDelivery, WebhookSubscription
from cases.services import editing, taxonomy
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    KeywordFactory,
    OutletFactory,
    edit,
)
from tests.test_webhooks import Receiver

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
        self.seqs = {}  # id -> the seq of the state the copy holds, from the feed or an event
        self.heard = 0  # webhook events applied so far

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
                self.seqs[entry["id"]] = entry["seq"]
                if entry["deleted"]:
                    self.mirror.pop(entry["id"], None)
                else:
                    self.mirror[entry["id"]] = entry["case"]
                applied += 1
            self.since = body["last_seq"]
            if body["pending"] == 0:
                return applied
        raise AssertionError("The feed never ran out.")

    def apply_webhooks(self, receiver):
        """Apply the events the endpoint accepted since last time, in arrival order.

        An event at or below the seq the copy holds for its case is stale: the feed's
        catch-up already brought that case's later state (or an old delivery was replayed).
        """
        for _, payload in receiver.events[self.heard :]:
            data = payload["data"]
            self.heard += 1
            if data["seq"] <= self.seqs.get(data["id"], 0):
                continue
            self.seqs[data["id"]] = data["seq"]
            if "case" in data:
                self.mirror[data["id"]] = data["case"]
            else:
                self.mirror.pop(data["id"], None)


@pytest.fixture
def receiver():
    subscription = WebhookSubscription.objects.create(url="http://127.0.0.1:9/unused")
    endpoint = Receiver(subscription.secret)
    subscription.url = endpoint.url
    subscription.save()
    yield endpoint
    endpoint.down()


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


def test_partners_mirroring_from_a_dump_then_the_feed_or_webhooks_end_equal_to_a_fresh_copy(
    client, receiver
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
    # After the dump, before the webhooks began: only the feed tells the hooked copy.
    edit(untouched, summary="Edited before the webhooks began.")
    assert webhooks.run_once() == (0, 0)  # the worker's first pass starts at the present
    # After the webhooks began, before the hooked copy caught up: both tell it.
    edit(retitled_related, summary="Edited while the copy caught up.")

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
    hooked = Partner(client)
    hooked.load_dump()
    hooked.follow_changes()
    assert hooked.mirror[untouched.pk]["summary"] == "Edited before the webhooks began."

    def webhooks_pass():
        webhooks.run_once()
        hooked.apply_webhooks(receiver)

    webhooks_pass()
    assert hooked.mirror == api_copy(client)

    # Editors at work, through the write path; the webhook worker runs after each step.
    created = CaseFactory(title="A new case", keywords=[nato])
    webhooks_pass()
    edit(edited, title="Case 0, corrected", summary="Corrected.")
    webhooks_pass()
    edit(retitled_related, title="Case 1, retitled")  # `edited` shows its title
    webhooks_pass()
    nato.name = "North Atlantic Treaty Organization"
    taxonomy.save_value(nato)  # every case showing the keyword changes
    webhooks_pass()
    truth.name = "The Daily Truth"
    taxonomy.save_value(truth)
    webhooks_pass()
    edit(withdrawn, status=Case.Status.WITHDRAWN, withdrawal_reason="Not disinformation.")
    webhooks_pass()
    edit(unpublished, status=Case.Status.DRAFT)
    webhooks_pass()
    editing.delete_case(deleted)
    webhooks_pass()
    edit(waiting, status=Case.Status.PUBLISHED)
    webhooks_pass()
    doomed = CaseFactory(title="Published and deleted between two syncs")
    editing.delete_case(doomed)
    webhooks_pass()

    assert partner.follow_changes() > 0
    assert partner.mirror == hooked.mirror == api_copy(client) == dump_copy(client)
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

    # Later changes reach both from where they stopped; a quiet feed brings none.
    assert partner.follow_changes() == 0
    edit(unpublished, status=Case.Status.PUBLISHED)
    webhooks_pass()
    ukraine.name = "Ukraine (renamed)"
    taxonomy.save_value(ukraine)
    webhooks_pass()
    partner.follow_changes()
    assert partner.mirror == hooked.mirror == api_copy(client) == dump_copy(client)
    assert unpublished.pk in hooked.mirror

    # Every request was signed, every event delivered, and each case's came in seq order.
    assert receiver.bad_signatures == 0
    assert not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()
    assert len(receiver.events) == WebhookDelivery.objects.count()
    assert {payload["type"] for _, payload in receiver.events} == set(webhooks.EVENT_TYPES)
    seqs_by_case = {}
    for _, payload in receiver.events:
        seqs_by_case.setdefault(payload["data"]["id"], []).append(payload["data"]["seq"])
    for seqs in seqs_by_case.values():
        assert seqs == sorted(set(seqs))


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
