"""Webhooks: signed events from the change log reach a real HTTP endpoint, in order per
case, at least once, through an endpoint's downtime; failing endpoints are disabled.

Every test commits its writes (transaction=True): the change log numbers committed changes.
The receiver is a real HTTP server on a free local port that verifies each signature with
the standardwebhooks library, as a partner's endpoint would.
"""

import datetime
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cases import webhooks
from cases.freshness.dataversion import read_version
from cases.models import Case, WebhookCursor, WebhookDelivery, WebhookSubscription
from cases.services.editing import delete_case
from tests.factories import CaseFactory, CountryFactory, KeywordFactory, edit

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """A partner's endpoint: answers 204 to events whose signature verifies, or `status`
    while told to fail; down() closes its port (connection refused) until up()."""

    def __init__(self, secret):
        self.verifier = Webhook(secret)
        self.events = []  # (webhook-id, payload) of each accepted event, in arrival order
        self.bad_signatures = 0
        self.failing_with = None
        self.server = None
        self.port = None
        self.up()

    def up(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                try:
                    payload = receiver.verifier.verify(body, dict(self.headers))
                except WebhookVerificationError:
                    receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                if receiver.failing_with:
                    self.send_response(receiver.failing_with)
                    self.end_headers()
                    self.wfile.write(b"Internal trouble")
                    return
                receiver.events.append((self.headers["webhook-id"], payload))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks"

    def types(self):
        return [(payload["type"], payload["data"]["id"]) for _, payload in self.events]


@pytest.fixture
def subscription():
    return WebhookSubscription.objects.create(url="http://127.0.0.1:9/unused")


@pytest.fixture
def receiver(subscription):
    endpoint = Receiver(subscription.secret)
    subscription.url = endpoint.url
    subscription.save()
    yield endpoint
    endpoint.down()


def worker_pass(now=None):
    return webhooks.run_once(now=now)


def test_the_secret_is_a_standard_webhooks_secret(subscription):
    assert subscription.secret.startswith("whsec_")
    Webhook(subscription.secret)  # a valid base64 key
    assert WebhookSubscription.objects.create(url="https://x.example/").secret != (
        subscription.secret
    )


def test_the_worker_starts_at_the_present_and_keeps_its_cursor(receiver):
    CaseFactory(title="Published before the worker ever ran")
    worker_pass()
    assert receiver.events == []
    assert WebhookCursor.objects.get().seq == read_version().version
    CaseFactory(title="Published later")
    worker_pass()
    assert WebhookCursor.objects.get().seq == read_version().version
    assert receiver.types() == [("case.published", Case.objects.get(title="Published later").pk)]


def test_a_case_s_life_arrives_signed_as_events(receiver, api_client):
    worker_pass()
    case = CaseFactory(title="NATO runs biolabs")
    worker_pass()
    edit(case, title="NATO runs secret biolabs")
    worker_pass()
    edit(case, status=Case.Status.WITHDRAWN, withdrawal_reason="A wrong source.")
    worker_pass()
    edit(case, status=Case.Status.PUBLISHED)
    worker_pass()
    pk = case.pk
    delete_case(case)
    worker_pass()

    assert receiver.bad_signatures == 0
    assert receiver.types() == [
        ("case.published", pk),
        ("case.updated", pk),
        ("case.withdrawn", pk),
        ("case.published", pk),
        ("case.deleted", pk),
    ]
    ids = [event_id for event_id, _ in receiver.events]
    assert len(set(ids)) == 5 and all(i.startswith(f"msg_{pk}_") for i in ids)
    updated = receiver.events[1][1]
    assert updated["data"]["case"]["title"] == "NATO runs secret biolabs"
    assert updated["data"]["seq"] < receiver.events[2][1]["data"]["seq"]
    assert receiver.events[2][1]["data"] == {
        "id": pk,
        "seq": receiver.events[2][1]["data"]["seq"],
        "reason": "withdrawn",
    }
    assert set(updated) == {"type", "timestamp", "data"}


def test_the_event_s_case_is_the_case_the_api_shows(receiver, api_client, settings):
    settings.SITE_URL = "http://testserver"
    worker_pass()
    case = CaseFactory(keywords=[KeywordFactory(name="NATO")])
    worker_pass()
    shown = api_client.get(f"/api/v1/cases/{case.pk}/").json()
    assert receiver.events[0][1]["data"]["case"] == shown


def test_drafts_are_never_announced(receiver):
    worker_pass()
    draft = CaseFactory(status=Case.Status.DRAFT)
    edit(draft, title="Still a draft")
    worker_pass()
    delete_case(draft)
    worker_pass()
    assert receiver.events == []
    assert not WebhookDelivery.objects.exists()


def test_a_receiver_down_for_a_while_gets_every_event_in_order_per_case(subscription, receiver):
    start = timezone.now()
    worker_pass(start)
    a = CaseFactory(title="Case A")
    receiver.down()  # connection refused
    worker_pass(start)

    first = WebhookDelivery.objects.get()
    subscription.refresh_from_db()
    assert (first.attempts, first.last_status, first.delivered_at) == (1, None, None)
    assert subscription.consecutive_failures == 1
    assert first.next_attempt_at == subscription.paused_until == start + seconds(10)

    edit(a, title="Case A, corrected")
    b = CaseFactory(title="Case B")
    worker_pass(start + seconds(5))  # still paused: queued, not sent
    assert WebhookDelivery.objects.count() == 3
    assert sum(WebhookDelivery.objects.values_list("attempts", flat=True)) == 1

    receiver.up()
    receiver.failing_with = 500
    worker_pass(start + seconds(11))
    first.refresh_from_db()
    subscription.refresh_from_db()
    assert (first.attempts, first.last_status, first.last_response) == (2, 500, "Internal trouble")
    assert subscription.consecutive_failures == 2
    assert first.next_attempt_at == start + seconds(11 + 20)  # doubled
    assert receiver.events == []

    receiver.failing_with = None
    worker_pass(start + seconds(31))
    assert receiver.types() == [
        ("case.published", a.pk),
        ("case.updated", a.pk),
        ("case.published", b.pk),
    ]
    assert receiver.events[1][1]["data"]["case"]["title"] == "Case A, corrected"
    assert receiver.bad_signatures == 0
    subscription.refresh_from_db()
    assert (subscription.consecutive_failures, subscription.paused_until) == (0, None)
    assert not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()
    assert list(WebhookDelivery.objects.order_by("seq").values_list("attempts", flat=True)) == [
        3,
        1,
        1,
    ]


def test_a_retry_keeps_the_event_id_and_signs_afresh(subscription, receiver):
    worker_pass()
    CaseFactory()
    receiver.failing_with = 503
    now = timezone.now()
    worker_pass(now)
    receiver.failing_with = None
    worker_pass(now + seconds(10))
    delivery = WebhookDelivery.objects.get()
    assert receiver.events[0][0] == delivery.event_id
    assert delivery.attempts == 2 and delivery.delivered_at == now + seconds(10)


def test_backoff_doubles_up_to_its_cap():
    waits = [webhooks.backoff(n) for n in range(1, 12)]
    assert waits[:4] == [10, 20, 40, 80]
    assert waits[-1] == webhooks.BACKOFF_CAP == max(waits)


def test_a_subscription_is_disabled_after_max_failures_and_its_queue_kept(
    subscription, receiver, admin_client
):
    worker_pass()
    CaseFactory()
    receiver.failing_with = 500
    now = timezone.now()
    for n in range(webhooks.MAX_FAILURES):
        subscription.refresh_from_db()
        assert subscription.active, n
        worker_pass(now)
        now += seconds(webhooks.BACKOFF_CAP)
    subscription.refresh_from_db()
    assert not subscription.active and subscription.disabled_at is not None
    assert subscription.disabled_reason.startswith(f"{webhooks.MAX_FAILURES} consecutive")
    assert WebhookDelivery.objects.get().attempts == webhooks.MAX_FAILURES
    worker_pass(now)
    assert WebhookDelivery.objects.get().attempts == webhooks.MAX_FAILURES

    # An editor activates it again once the endpoint works: the kept event is sent.
    receiver.failing_with = None
    response = admin_client.post(
        f"/admin/cases/webhooksubscription/{subscription.pk}/change/",
        {
            "url": subscription.url,
            "description": "",
            "active": "on",
            "on_published": "on",
            "on_updated": "on",
            "on_withdrawn": "on",
        },
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.disabled_at is None and subscription.consecutive_failures == 0
    worker_pass(now)
    assert len(receiver.events) == 1


def test_event_and_keyword_filters_choose_what_a_subscription_hears(receiver):
    nato = KeywordFactory(name="NATO")
    ukraine = CountryFactory(name="Ukraine")
    WebhookSubscription.objects.all().update(on_updated=False)
    filtered = WebhookSubscription.objects.create(url=receiver.url, on_published=True)
    filtered.keywords.set([nato])
    filtered.countries.set([ukraine])
    worker_pass()
    about_nato = CaseFactory(keywords=[nato], countries=[ukraine])
    other = CaseFactory(keywords=[KeywordFactory(name="EU")], countries=[ukraine])
    worker_pass()
    edit(about_nato, title="Edited")
    worker_pass()
    about_nato_id, other_id = about_nato.pk, other.pk
    delete_case(about_nato)
    delete_case(other)
    worker_pass()

    heard = sorted(WebhookDelivery.objects.values_list("subscription_id", "event_type", "case_id"))
    first = WebhookSubscription.objects.exclude(pk=filtered.pk).get().pk
    assert heard == sorted(
        [
            (first, "case.published", about_nato_id),
            (first, "case.published", other_id),
            (first, "case.deleted", about_nato_id),
            (first, "case.deleted", other_id),
            (filtered.pk, "case.published", about_nato_id),
            (filtered.pk, "case.updated", about_nato_id),
            # A deleted case has no keywords left: those told of it hear of its deletion.
            (filtered.pk, "case.deleted", about_nato_id),
        ]
    )


def test_the_admin_replays_a_delivery_with_its_event_id(subscription, receiver, admin_client):
    worker_pass()
    CaseFactory()
    worker_pass()
    delivery = WebhookDelivery.objects.get()
    response = admin_client.post(
        "/admin/cases/webhookdelivery/",
        {"action": "replay", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    worker_pass()
    assert [event_id for event_id, _ in receiver.events] == [delivery.event_id] * 2
    page = admin_client.get(f"/admin/cases/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200


def test_the_secret_is_shown_once_when_the_subscription_is_created(admin_client):
    response = admin_client.post(
        "/admin/cases/webhooksubscription/add/",
        {
            "url": "https://partner.example/hooks",
            "description": "Partner",
            "active": "on",
            "on_published": "on",
        },
        follow=True,
    )
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret in response.content.decode()
    page = admin_client.get(f"/admin/cases/webhooksubscription/{subscription.pk}/change/")
    assert subscription.secret not in page.content.decode()


def test_the_command_makes_one_pass_with_once(receiver):
    call_command("deliver_webhooks", "--once", stdout=io.StringIO())
    CaseFactory()
    out = io.StringIO()
    call_command("deliver_webhooks", "--once", stdout=out)
    assert out.getvalue().strip() == "1 deliveries queued, 1 delivered."
    assert len(receiver.events) == 1


def test_a_receiver_verifies_what_the_worker_signs(subscription):
    delivery = WebhookDelivery(
        subscription=subscription,
        event_id="msg_1_2",
        payload={"type": "case.updated", "data": {"id": 1, "é": "ü"}},
    )
    body, headers = webhooks.signed_request(delivery, Webhook(subscription.secret), timezone.now())
    assert Webhook(subscription.secret).verify(body, headers) == delivery.payload
    assert headers["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):
        Webhook(subscription.secret).verify(body + b" ", headers)
    assert json.loads(body) == delivery.payload


def seconds(n):
    return datetime.timedelta(seconds=n)


def test_turning_changes_into_deliveries_costs_the_same_queries_for_one_case_or_many(receiver):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    filtered = WebhookSubscription.objects.create(url=receiver.url)
    filtered.keywords.set([KeywordFactory(name="NATO")])
    worker_pass()

    def queries_to_enqueue(cases):
        for _ in range(cases):
            CaseFactory()
        with CaptureQueriesContext(connection) as queries:
            webhooks.enqueue()
        return len(queries)

    one, many = queries_to_enqueue(1), queries_to_enqueue(12)
    assert WebhookDelivery.objects.count() == 13
    assert one == many


def test_pruning_keeps_what_says_a_subscription_was_told_of_a_case(receiver):
    nato = KeywordFactory(name="NATO")
    filtered = WebhookSubscription.objects.get()
    filtered.keywords.set([nato])
    worker_pass()
    case = CaseFactory(keywords=[nato])
    worker_pass()
    edit(case, title="Edited once")
    worker_pass()
    edit(case, title="Edited twice")
    worker_pass()
    assert WebhookDelivery.objects.filter(delivered_at__isnull=False).count() == 3
    WebhookDelivery.objects.update(delivered_at=timezone.now() - datetime.timedelta(days=200))
    undelivered = WebhookDelivery.objects.create(
        subscription=filtered,
        event_id="msg_x",
        event_type="case.updated",
        case_id=case.pk,
        seq=0,
        payload={},
    )

    out = io.StringIO()
    call_command("prune_logs", "--days", "180", stdout=out)
    assert "2 delivered webhooks" in out.getvalue()
    kept = WebhookDelivery.objects.exclude(pk=undelivered.pk).get()
    assert kept.payload["data"]["case"]["title"] == "Edited twice"
    assert WebhookDelivery.objects.filter(pk=undelivered.pk).exists()

    # The kept delivery still tells the worker that this subscription heard of the case.
    undelivered.delete()
    case_id = case.pk
    delete_case(case)
    worker_pass()
    assert receiver.types()[-1] == ("case.deleted", case_id)


def test_pruning_leaves_recent_deliveries(receiver):
    worker_pass()
    case = CaseFactory()
    worker_pass()
    edit(case, title="Edited")
    worker_pass()
    call_command("prune_logs", "--days", "1", stdout=io.StringIO())
    assert WebhookDelivery.objects.count() == 2
