"""Signing in to the admin in a real browser: an editor sets up an authenticator app and
then signs in with its code; too many wrong passwords show the lockout page.

Screenshots go to test-artifacts/.
"""

import pytest
from django.contrib.auth.models import User
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import assert_no_serious_axe_violations, save_screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long passphrase"


def current_code(device, steps_ahead=0):
    device.refresh_from_db()
    drift = device.drift + steps_ahead
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def sign_in(page, live_server, password=PASSWORD, code=""):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", password)
    if code:
        page.fill("#id_otp_token", code)
    page.click("input[type=submit]")


def test_an_editor_sets_up_two_factor_and_then_signs_in_with_a_code(page, live_server):
    User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    sign_in(page, live_server)
    page.wait_for_selector("#site-name")

    page.click("#two-factor-module a")
    page.wait_for_selector("img[alt^='QR code']")
    save_screenshot(page, "sign-in-two-factor-setup")
    device = TOTPDevice.objects.get(user__username="editor")
    page.fill("#id_otp_token", current_code(device))
    page.click("input[type=submit]")
    page.wait_for_selector("text=Two-factor sign-in is on")
    page.click("#logout-form button")

    sign_in(page, live_server)
    page.wait_for_selector(".errornote")
    assert "six-digit code" in page.inner_text("#content")
    save_screenshot(page, "sign-in-code-asked")
    assert_no_serious_axe_violations(page)

    # This step's code was spent on the setup; the device also accepts the next step's.
    sign_in(page, live_server, code=current_code(device, steps_ahead=1))
    page.wait_for_selector("#site-name")
    assert page.url.rstrip("/").endswith("/admin")


def test_too_many_wrong_passwords_show_the_lockout_page(page, live_server, settings):
    User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(page, live_server, password="wrong")
        page.wait_for_selector(".errornote")

    sign_in(page, live_server)

    page.wait_for_selector("text=Too many failed sign-ins")
    assert "Try again later" in page.inner_text("#content")
    save_screenshot(page, "sign-in-locked-out")
    assert_no_serious_axe_violations(page)
