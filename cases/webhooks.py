"""Webhooks: partners' endpoints told of changes to the published cases, from the change log.

They follow the Standard Webhooks specification (https://www.standardwebhooks.com/): each
event is a POST of JSON with the headers `webhook-id` (the event's id, the same on every
attempt), `webhook-timestamp` (of the attempt, in Unix seconds) and `webhook-signature`
(`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the subscription's
`whsec_` secret), signed by the `standardwebhooks` library.

`manage.py deliver_webhooks` runs run_once() in a loop. A pass has two steps:

1. enqueue(): the cases the change log (cases.freshness.dataversion) numbered after the
   worker's cursor become events, and each event a WebhookDelivery for every active
   subscription that wants it, in the same transaction as the cursor's move: an event is
   never lost between the log and the queue. As in the changes feed, a case comes once per
   change it had since the last pass, with its latest state: several quick edits may come
   as one event.
2. deliver_due(): each subscription's undelivered events are sent in log order. The first
   failure (no answer, or a status other than 2xx) stops the subscription's sending and
   pauses it for BACKOFF_BASE seconds, doubled after each further consecutive failure, up
   to BACKOFF_CAP; then the same event is tried first again. So a case's later event never
   reaches an endpoint before its earlier one was accepted (nor does any later event), and
   every event is delivered at least once. After MAX_FAILURES consecutive failures the
   subscription is disabled; its queue is kept, and sent once an editor activates it again.

Event types: case.published (a case the webhooks had not announced as published),
case.updated, case.withdrawn, case.deleted and case.unpublished (back to draft or review).
"""

import datetime
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from cases.api.changes import REASONS, UNPUBLISHED
from cases.freshness.dataversion import case_changes, read_version
from cases.models import (
    Case,
    WebhookAnnouncedCase,
    WebhookCursor,
    WebhookDelivery,
    WebhookSubscription,
)
from cases.readmodels.api_json import case_representations

logger = logging.getLogger(__name__)

BACKOFF_BASE = 10  # seconds before the first retry
BACKOFF_CAP = 3600  # the longest wait between two attempts
MAX_FAILURES = 20  # consecutive failures that disable a subscription (about 15 hours)
TIMEOUT = 10  # seconds an endpoint has to answer
ENQUEUE_BATCH = 500  # log rows read per transaction
SEND_BATCH = 100  # deliveries read at a time per subscription
RESPONSE_EXCERPT = 500  # characters of an answer kept in the delivery log
# One worker at a time sends (pg_try_advisory_lock): two would break the order per case.
WORKER_LOCK = 0x57EB400C

PUBLISHED = "case.published"
UPDATED = "case.updated"
REMOVED = {
    "withdrawn": "case.withdrawn",
    "deleted": "case.deleted",
    UNPUBLISHED: "case.unpublished",
}
EVENT_TYPES = [PUBLISHED, UPDATED, *REMOVED.values()]


@dataclass
class Event:
    case_id: int
    seq: int
    type: str
    payload: dict

    @property
    def id(self):
        return f"msg_{self.case_id}_{self.seq}"


def backoff(failures):
    """Seconds to wait after the `failures`-th consecutive failure (1, 2, ...)."""
    return min(BACKOFF_BASE * 2 ** (failures - 1), BACKOFF_CAP)


def run_once(now=None, send=None):
    """One pass of the worker: enqueue every new change, then send what is due.

    Returns (deliveries created, deliveries sent), or None when another worker holds the
    lock.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [WORKER_LOCK])
        if not cursor.fetchone()[0]:
            return None
        try:
            created = 0
            while True:
                batch, more = enqueue(now=now)
                created += batch
                if not more:
                    break
            return created, deliver_due(now=now, send=send)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [WORKER_LOCK])


def start_cursor():
    """The worker's first run: start at the present, with the published cases announced.

    One statement, one snapshot: the version it reads numbers every change it sees.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
WITH announced AS (
    INSERT INTO cases_webhookannouncedcase (case_id)
    SELECT id FROM cases_case WHERE status = %s
    ON CONFLICT DO NOTHING
)
INSERT INTO cases_webhookcursor (id, seq, updated_at)
SELECT 1, coalesce((SELECT version FROM cases_dataversion WHERE id = 1), 0), now()
ON CONFLICT (id) DO NOTHING
""",
            [Case.Status.PUBLISHED],
        )


def enqueue(now=None, limit=ENQUEUE_BATCH):
    """Turn the next `limit` changed cases of the log into deliveries, in one transaction.

    Returns (deliveries created, whether more changes are waiting).
    """
    now = now or timezone.now()
    with transaction.atomic():
        cursor = WebhookCursor.objects.select_for_update().filter(pk=1).first()
        if cursor is None:
            start_cursor()
            return 0, False
        upto = read_version().version
        rows = case_changes(cursor.seq, upto, limit)
        events = events_of(rows, now)
        created = 0
        if events:
            created = len(queue(events))
        full = len(rows) == limit
        cursor.seq = rows[-1][0] if full else max(upto, cursor.seq)
        cursor.save()
        return created, full


def events_of(rows, now):
    """The events of change log rows [(seq, case id, status, was public)]; and the
    announced cases brought up to date."""
    announced = set(
        WebhookAnnouncedCase.objects.filter(case_id__in=[row[1] for row in rows]).values_list(
            "case_id", flat=True
        )
    )
    published = [pk for _, pk, status, _ in rows if status == Case.Status.PUBLISHED]
    shown = {pk: json.loads(text) for pk, _, _, text in case_representations(published, {})}
    timestamp = now.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    events, newly_announced, removed = [], [], []
    for seq, pk, status, was_public in rows:
        if pk in shown:
            kind = UPDATED if pk in announced else PUBLISHED
            data = {"id": pk, "seq": seq, "case": shown[pk]}
            if kind == PUBLISHED:
                newly_announced.append(pk)
        elif status == Case.Status.PUBLISHED:
            continue  # changed again since its row was read: it comes again, numbered later
        elif was_public or pk in announced:
            reason = REASONS.get(status, UNPUBLISHED)
            kind = REMOVED[reason]
            data = {"id": pk, "seq": seq, "reason": reason}
            removed.append(pk)
        else:
            continue  # a draft the public never saw
        payload = {"type": kind, "timestamp": timestamp, "data": data}
        events.append(Event(pk, seq, kind, payload))
    WebhookAnnouncedCase.objects.bulk_create(
        [WebhookAnnouncedCase(case_id=pk) for pk in newly_announced], ignore_conflicts=True
    )
    if removed:
        WebhookAnnouncedCase.objects.filter(case_id__in=removed).delete()
    return events


def wants(subscription, event):
    if event.type == PUBLISHED:
        return subscription.on_published
    if event.type == UPDATED:
        return subscription.on_updated
    return subscription.on_withdrawn


def queue(events):
    """A delivery of each event for each active subscription that wants it.

    Keyword and country filters look at the case as it is now. A deleted case has no
    keywords left: its deletion goes to the filtered subscriptions that were told of it.
    """
    subscriptions = list(
        WebhookSubscription.objects.filter(active=True).prefetch_related("keywords", "countries")
    )
    if not subscriptions:
        return []
    filtered = [s for s in subscriptions if s.keywords.all() or s.countries.all()]
    case_ids = [event.case_id for event in events]
    keywords, countries, told = {}, {}, set()
    if filtered:
        for pk, keyword_id in Case.keywords.through.objects.filter(
            case_id__in=case_ids
        ).values_list("case_id", "keyword_id"):
            keywords.setdefault(pk, set()).add(keyword_id)
        for pk, country_id in Case.countries.through.objects.filter(
            case_id__in=case_ids
        ).values_list("case_id", "country_id"):
            countries.setdefault(pk, set()).add(country_id)
        deleted = [event.case_id for event in events if event.type == REMOVED["deleted"]]
        if deleted:
            told = set(
                WebhookDelivery.objects.filter(
                    case_id__in=deleted, subscription__in=filtered
                ).values_list("subscription_id", "case_id")
            )
    deliveries = []
    for event in events:
        for subscription in subscriptions:
            if not wants(subscription, event):
                continue
            if subscription in filtered:
                if event.type == REMOVED["deleted"]:
                    if (subscription.pk, event.case_id) not in told:
                        continue
                elif not matches_filters(
                    subscription,
                    keywords.get(event.case_id, set()),
                    countries.get(event.case_id, set()),
                ):
                    continue
            deliveries.append(
                WebhookDelivery(
                    subscription=subscription,
                    event_id=event.id,
                    event_type=event.type,
                    case_id=event.case_id,
                    seq=event.seq,
                    payload=event.payload,
                )
            )
    return WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)


def matches_filters(subscription, keyword_ids, country_ids):
    wanted_keywords = {k.pk for k in subscription.keywords.all()}
    wanted_countries = {c.pk for c in subscription.countries.all()}
    if wanted_keywords and not wanted_keywords & keyword_ids:
        return False
    return not wanted_countries or bool(wanted_countries & country_ids)


def deliver_due(now=None, send=None):
    """Send each subscription's undelivered events in log order, up to its first failure.

    Returns how many were delivered.
    """
    now = now or timezone.now()
    send = send or post
    delivered = 0
    due = WebhookSubscription.objects.filter(active=True).filter(
        Q(paused_until__isnull=True) | Q(paused_until__lte=now)
    )
    for subscription in due:
        delivered += _deliver_for(subscription, now, send)
    return delivered


def _deliver_for(subscription, now, send):
    delivered = 0
    signer = Webhook(subscription.secret)
    while True:
        batch = list(
            subscription.deliveries.filter(delivered_at__isnull=True).order_by("seq", "id")[
                :SEND_BATCH
            ]
        )
        for delivery in batch:
            if not attempt(subscription, delivery, signer, now, send):
                return delivered
            delivered += 1
        if len(batch) < SEND_BATCH:
            return delivered


def signed_request(delivery, signer, now):
    """(body bytes, headers) of one attempt at sending `delivery`."""
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    moment = now.astimezone(datetime.UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": "DisinfoDB-Webhooks/1",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signer.sign(delivery.event_id, moment, body),
    }
    return body, headers


def attempt(subscription, delivery, signer, now, send):
    """Send one delivery and record how it went; True if the endpoint accepted it."""
    # Signed at the moment of sending, whatever `now` the schedule runs on: receivers
    # refuse timestamps more than a few minutes off their clock.
    body, headers = signed_request(delivery, signer, timezone.now())
    status, text = send(subscription.url, body, headers)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status = status
    delivery.last_response = (text or "")[:RESPONSE_EXCERPT]
    accepted = status is not None and 200 <= status < 300
    if accepted:
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        subscription.consecutive_failures = 0
        subscription.paused_until = None
    else:
        subscription.consecutive_failures += 1
        wait = datetime.timedelta(seconds=backoff(subscription.consecutive_failures))
        delivery.next_attempt_at = subscription.paused_until = now + wait
        if subscription.consecutive_failures >= MAX_FAILURES:
            subscription.active = False
            subscription.disabled_at = now
            subscription.disabled_reason = (
                f"{subscription.consecutive_failures} consecutive failed attempts; the last: "
                + (f"HTTP {status}" if status is not None else delivery.last_response)
            )[:300]
            logger.warning("Webhook subscription %s disabled", subscription.pk)
    with transaction.atomic():
        delivery.save(
            update_fields=[
                "attempts",
                "last_attempt_at",
                "last_status",
                "last_response",
                "delivered_at",
                "next_attempt_at",
            ]
        )
        subscription.save(
            update_fields=[
                "consecutive_failures",
                "paused_until",
                "active",
                "disabled_at",
                "disabled_reason",
            ]
        )
    return accepted


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer other than 2xx: a failure


_opener = urllib.request.build_opener(_NoRedirects)


def post(url, body, headers):
    """POST `body` to `url`: (HTTP status, the answer's start), or (None, why) without one."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            return response.status, _excerpt(response)
    except urllib.error.HTTPError as error:
        return error.code, _excerpt(error)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, str(getattr(error, "reason", error))


def _excerpt(response):
    try:
        return response.read(RESPONSE_EXCERPT).decode("utf-8", "replace")
    except OSError:
        return ""


def replay(deliveries, now=None):
    """Queue deliveries again (the admin's replay): sent at the next pass, in log order,
    with their original webhook-id. Returns how many."""
    return WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        delivered_at=None, next_attempt_at=now or timezone.now()
    )
