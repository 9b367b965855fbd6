"""The locked admin and API: sign-in throttling (django-axes), two-factor sign-in
(django-otp), hashed, scoped, expiring API tokens, and the record of sign-ins and token use."""

import datetime
import hashlib
import importlib
import io

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from cases.api.tokens import issue_token
from cases.models import ApiToken, ApiTokenUse, Case
from tests.conftest import EDITOR_PERMISSIONS, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long passphrase"
EDITOR_ADDRESS = "192.0.2.10"
ATTACKER_ADDRESS = "198.51.100.66"
LOGIN_URL = "/admin/login/?next=/admin/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor():
    return User.objects.create_user("editor", password=PASSWORD, is_staff=True)


def sign_in(client, password=PASSWORD, address=EDITOR_ADDRESS, username="editor", **fields):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, **fields},
        REMOTE_ADDR=address,
    )


def is_signed_in(client):
    return "_auth_user_id" in client.session


def fail_until_locked(client, address, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, password="wrong", address=address)


# --- Throttling and lockout -----------------------------------------------------------------


def test_failed_sign_ins_lock_the_username_from_that_address_even_with_the_right_password(
    client, editor, settings
):
    fail_until_locked(client, EDITOR_ADDRESS, settings)

    response = sign_in(client)

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert f"after {settings.AXES_FAILURE_LIMIT} failed" in response.content.decode()
    assert not is_signed_in(client)


def test_an_attacker_at_another_address_cannot_lock_the_editor_out(client, editor, settings):
    fail_until_locked(client, ATTACKER_ADDRESS, settings)
    assert sign_in(client, address=ATTACKER_ADDRESS).status_code == 429

    response = sign_in(client, address=EDITOR_ADDRESS)

    assert response.status_code == 302
    assert is_signed_in(client)


def test_the_lockout_ends_after_the_cool_off(client, editor, settings):
    fail_until_locked(client, EDITOR_ADDRESS, settings)
    assert sign_in(client).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    )

    assert sign_in(client).status_code == 302
    assert is_signed_in(client)


def test_behind_a_proxy_the_lockout_keys_on_the_address_the_proxy_saw_not_a_forged_one(
    client, editor, settings
):
    settings.AXES_CLIENT_IP_CALLABLE = "cases.client_ip.forwarded_client_ip"
    settings.DISINFO_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        # The attacker writes the editor's address into the header; the proxy appends theirs.
        client.post(
            LOGIN_URL,
            {"username": "editor", "password": "wrong"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"{EDITOR_ADDRESS}, {ATTACKER_ADDRESS}",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER_ADDRESS}

    response = client.post(
        LOGIN_URL,
        {"username": "editor", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=EDITOR_ADDRESS,
    )

    assert response.status_code == 302


def test_sign_ins_failures_and_lockouts_are_recorded_and_readable_in_the_admin(
    client, editor, settings
):
    sign_in(client)
    client.logout()
    fail_until_locked(client, ATTACKER_ADDRESS, settings)

    assert AccessLog.objects.filter(username="editor", ip_address=EDITOR_ADDRESS).count() == 1
    failures = AccessFailureLog.objects.filter(username="editor", ip_address=ATTACKER_ADDRESS)
    assert failures.count() == settings.AXES_FAILURE_LIMIT
    assert failures.filter(locked_out=True).count() == 1

    client.force_login(User.objects.create_superuser("admin", "admin@example.org", PASSWORD))
    page = client.get("/admin/axes/accessfailurelog/")
    assert page.status_code == 200
    assert ATTACKER_ADDRESS in page.content.decode()


# --- Two-factor sign-in ---------------------------------------------------------------------


@pytest.fixture
def device(editor):
    return TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)


def current_code(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def wrong_code(device):
    return f"{(int(current_code(device)) + 1) % 1_000_000:06d}"


def test_with_a_confirmed_device_the_password_alone_does_not_sign_in(client, device):
    response = sign_in(client)

    assert response.status_code == 200
    assert "six-digit code" in response.content.decode()
    assert not is_signed_in(client)


def test_with_a_confirmed_device_a_wrong_code_does_not_sign_in_and_counts_as_a_failure(
    client, device
):
    response = sign_in(client, otp_token=wrong_code(device))

    assert response.status_code == 200
    assert "code is wrong" in response.content.decode()
    assert not is_signed_in(client)
    assert AccessFailureLog.objects.filter(username="editor").count() == 1


def test_with_a_confirmed_device_the_right_code_signs_in_and_opens_the_admin(client, device):
    response = sign_in(client, otp_token=current_code(device))

    assert response.status_code == 302
    assert is_signed_in(client)
    assert client.get("/admin/").status_code == 200


def test_a_session_that_never_gave_a_code_is_refused_the_admin_once_a_device_is_confirmed(
    client, device, editor
):
    client.force_login(editor)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_without_a_device_the_code_is_optional_unless_two_factor_is_required(
    client, editor, settings
):
    assert sign_in(client).status_code == 302
    client.logout()

    settings.DISINFO_REQUIRE_2FA = True
    response = sign_in(client)

    assert response.status_code == 200
    assert "requires two-factor sign-in" in response.content.decode()
    assert not is_signed_in(client)


def test_an_editor_sets_up_an_authenticator_app_by_scanning_and_confirming_a_code(
    client, editor, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no wait after the wrong code below
    client.force_login(editor)

    page = client.get("/admin/two-factor/")
    assert "data:image/svg+xml;base64," in page.content.decode()
    device = TOTPDevice.objects.get(user=editor)
    assert not device.confirmed
    client.post("/admin/two-factor/", {"otp_token": wrong_code(device)})
    assert not TOTPDevice.objects.get(user=editor).confirmed

    client.post("/admin/two-factor/", {"otp_token": current_code(device)})

    assert TOTPDevice.objects.get(user=editor).confirmed
    # The session that confirmed the device has proved it, and keeps the admin.
    assert client.get("/admin/").status_code == 200


# --- API tokens -----------------------------------------------------------------------------


def with_key(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_is_stored_only_as_the_hash_of_its_key(db):
    token, key = issue_token(make_user("partner", EDITOR_PERMISSIONS))

    stored = ApiToken.objects.filter(pk=token.pk).values().get()

    assert stored["digest"] == hashlib.sha256(key.encode()).hexdigest()
    assert not any(key in str(value) for value in stored.values())


def test_a_read_token_reads_drafts_but_any_write_is_refused_naming_its_scope(db):
    user = make_user("partner", EDITOR_PERMISSIONS)
    draft = Case.objects.create(title="A draft about quokkas", status=Case.Status.DRAFT)
    _, key = issue_token(user, scope="read")
    client = with_key(key)

    assert client.get(f"/api/v1/cases/{draft.pk}/").status_code == 200
    for response in (
        client.post("/api/v1/cases/", {"title": "New"}, format="json"),
        client.patch(f"/api/v1/cases/{draft.pk}/", {"title": "Changed"}, format="json"),
        client.delete(f"/api/v1/cases/{draft.pk}/"),
    ):
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
        assert "scope is read" in response.json()["errors"][0]["message"]
    draft.refresh_from_db()
    assert draft.title == "A draft about quokkas"


def test_a_write_token_writes_what_its_user_may(db):
    _, key = issue_token(make_user("partner", EDITOR_PERMISSIONS), scope="write")

    response = with_key(key).post("/api/v1/cases/", {"title": "New claim"}, format="json")

    assert response.status_code == 201


def test_an_expired_token_is_refused_with_a_json_401_saying_so(db):
    user = make_user("partner", EDITOR_PERMISSIONS)
    _, key = issue_token(user, expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = with_key(key).get("/api/v1/cases/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "token expired" in response.json()["errors"][0]["message"].lower()


def test_an_unknown_token_is_refused_with_a_json_401(db):
    response = with_key("not-a-key").get("/api/v1/cases/")

    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Invalid token."


def test_the_command_prints_a_working_key_once_with_its_scope_and_expiry(db):
    make_user("partner", EDITOR_PERMISSIONS)
    out = io.StringIO()

    call_command(
        "create_api_token", "partner", "--scope", "write", "--expires-in-days", "90", stdout=out,
        stderr=io.StringIO(),
    )  # fmt: skip

    key = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert token.scope == "write"
    assert token.expires_at - timezone.now() > datetime.timedelta(days=89, hours=23)
    assert with_key(key).post("/api/v1/cases/", {"title": "N"}, format="json").status_code == 201


def test_a_token_made_in_the_admin_shows_its_key_once(client):
    admin = User.objects.create_superuser("admin", "admin@example.org", PASSWORD)
    partner = make_user("partner", EDITOR_PERMISSIONS)
    client.force_login(admin)

    response = client.post(
        "/admin/cases/apitoken/add/",
        {"user": partner.pk, "name": "Fact-check desk", "scope": "read", "expires_at_0": "",
         "expires_at_1": ""},
        follow=True,
    )  # fmt: skip

    token = ApiToken.objects.get()
    message = [str(m) for m in response.context["messages"]][0]
    key = message.split("<code>")[1].split("</code>")[0]
    assert hashlib.sha256(key.encode()).hexdigest() == token.digest
    assert with_key(key).get("/api/v1/cases/").status_code == 200
    change_page = client.get(f"/admin/cases/apitoken/{token.pk}/change/").content.decode()
    assert key not in change_page
    assert token.prefix in change_page


def test_every_write_is_recorded_and_reads_at_most_once_a_minute(db):
    token, key = issue_token(make_user("partner", EDITOR_PERMISSIONS), scope="write")
    client = with_key(key)

    client.post("/api/v1/cases/", {"title": "One"}, format="json", REMOTE_ADDR="192.0.2.7")
    client.post("/api/v1/cases/", {"title": "Two"}, format="json")
    client.get("/api/v1/cases/?keyword=x")
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/cases/")
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE"))]

    assert writes == []
    uses = list(ApiTokenUse.objects.filter(token=token).order_by("id"))
    assert [(use.method, use.path) for use in uses] == [
        ("POST", "/api/v1/cases/"),
        ("POST", "/api/v1/cases/"),
    ]
    assert uses[0].ip_address == "192.0.2.7"
    token.refresh_from_db()
    assert token.last_used_at is not None

    ApiToken.objects.update(last_used_at=timezone.now() - datetime.timedelta(minutes=2))
    client.get("/api/v1/cases/?keyword=x")
    assert ApiTokenUse.objects.filter(token=token, method="GET").count() == 1


def test_the_record_of_token_use_is_read_only_in_the_admin(client):
    token, key = issue_token(make_user("partner", EDITOR_PERMISSIONS), scope="write")
    with_key(key).post("/api/v1/cases/", {"title": "One"}, format="json")
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", PASSWORD))

    listing = client.get("/admin/cases/apitokenuse/")
    use = ApiTokenUse.objects.get()

    assert listing.status_code == 200
    assert token.prefix in listing.content.decode()
    assert client.get("/admin/cases/apitokenuse/add/").status_code == 403
    assert (
        client.post(f"/admin/cases/apitokenuse/{use.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert ApiTokenUse.objects.filter(pk=use.pk).exists()


def test_prune_logs_deletes_token_uses_older_than_its_days(db):
    token, key = issue_token(make_user("partner", EDITOR_PERMISSIONS), scope="write")
    with_key(key).post("/api/v1/cases/", {"title": "Old"}, format="json")
    ApiTokenUse.objects.update(at=timezone.now() - datetime.timedelta(days=31))
    with_key(key).post("/api/v1/cases/", {"title": "New"}, format="json")

    out = io.StringIO()
    call_command("prune_logs", "--days", "30", stdout=out)

    assert "Deleted 1 token uses" in out.getvalue()
    assert ApiTokenUse.objects.get(token=token).at > timezone.now() - datetime.timedelta(days=1)
    with pytest.raises(CommandError, match="--days"):
        call_command("prune_logs", "--days", "0")


def test_drf_tokens_made_before_are_hashed_and_keep_working(db):
    partner = make_user("partner", EDITOR_PERMISSIONS)
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamptz NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [old_key, partner.pk])
    migration = importlib.import_module("cases.migrations.0019_api_tokens")

    with connection.schema_editor() as schema_editor:
        migration.hash_drf_tokens(apps, schema_editor)

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('authtoken_token')")
        assert cursor.fetchone()[0] is None
    token = ApiToken.objects.get(user=partner)
    assert (token.scope, token.expires_at) == ("write", None)
    assert (
        with_key(old_key).post("/api/v1/cases/", {"title": "N"}, format="json").status_code == 201
    )
