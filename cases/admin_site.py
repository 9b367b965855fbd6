"""The admin site: Django's, with a sign-in that asks for a TOTP code (django-otp).

A code is asked of staff who have confirmed a TOTP device, and of all staff when
DISINFO_REQUIRE_2FA is on. Wrong codes count as failed sign-ins for django-axes, so that
guessing the six digits is throttled as guessing the password is.
"""

import base64
import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

# Asking again for a code the user left out or for a device to choose is not a failure.
NOT_FAILURES = {"token_required", "device_required"}


def confirmed_devices(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id")


def two_factor_needed(user):
    return settings.DISINFO_REQUIRE_2FA or confirmed_devices(user).exists()


class AdminLoginForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    otp_token = forms.CharField(
        required=False,
        label="Two-factor code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    # Shown only when the user has more than one device and must choose.
    otp_device = forms.CharField(required=False, widget=forms.Select)
    otp_challenge = forms.CharField(required=False)

    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": "Enter the six-digit code from your authenticator app.",
        "invalid_token": "That code is wrong or has expired. Enter the current one.",
    }

    def clean(self):
        cleaned_data = super().clean()
        user = self.get_user()
        if user is None:
            return cleaned_data
        if confirmed_devices(user).exists():
            try:
                self.clean_otp(user)
            except ValidationError as error:
                if error.code not in NOT_FAILURES:
                    user_login_failed.send(
                        sender=__name__,
                        credentials={"username": cleaned_data.get("username")},
                        request=self.request,
                    )
                raise
        elif settings.DISINFO_REQUIRE_2FA:
            raise ValidationError(
                "This site requires two-factor sign-in, and your account has no "
                "authenticator app yet: ask an administrator to set one up for you.",
                code="two_factor_required",
            )
        return cleaned_data

    def _chosen_device(self, user):
        # With a single device there is nothing to choose.
        if not self.cleaned_data.get("otp_device"):
            devices = list(confirmed_devices(user)[:2])
            if len(devices) == 1:
                return TOTPDevice.objects.select_for_update().get(pk=devices[0].pk)
        return super()._chosen_device(user)

    @property
    def asks_for_device(self):
        return len(self.fields["otp_device"].widget.choices) > 2


class DisinfoAdminSite(AdminSite):
    login_form = AdminLoginForm
    login_template = "admin/login_two_factor.html"
    index_template = "admin/index_two_factor.html"

    def index(self, request, extra_context=None):
        two_factor_on = confirmed_devices(request.user).exists()
        return super().index(request, {**(extra_context or {}), "two_factor_on": two_factor_on})

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        is_verified = getattr(request.user, "is_verified", None)
        if is_verified and is_verified():
            return True
        # Asked several times a page (each_context too): one query a request.
        if not hasattr(request, "two_factor_needed"):
            request.two_factor_needed = two_factor_needed(request.user)
        return not request.two_factor_needed

    def get_urls(self):
        return [
            path("two-factor/", self.admin_view(self.two_factor_setup), name="two_factor"),
            *super().get_urls(),
        ]

    def two_factor_setup(self, request):
        """Set up an authenticator app for oneself: scan the code, confirm with a code."""
        if confirmed_devices(request.user).exists():
            return TemplateResponse(
                request,
                "admin/two_factor_setup.html",
                {**self.each_context(request), "title": "Two-factor sign-in", "done": True},
            )
        device, _ = TOTPDevice.objects.get_or_create(
            user=request.user, confirmed=False, defaults={"name": "Authenticator app"}
        )
        error = ""
        if request.method == "POST":
            if device.verify_token(request.POST.get("otp_token", "").strip()):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                # This session has just proved the second factor.
                otp_login(request, device)
                messages.success(request, "Two-factor sign-in is on for your account.")
                return redirect("admin:two_factor")
            error = "That code is wrong or has expired. Enter the current one."
        svg = io.BytesIO()
        write_qrcode_image(device.config_url, svg)
        context = {
            **self.each_context(request),
            "title": "Set up two-factor sign-in",
            "qr_code": mark_safe(
                f'<img alt="QR code for your authenticator app" width="220" height="220" '
                f'src="data:image/svg+xml;base64,{base64.b64encode(svg.getvalue()).decode()}">'
            ),
            "secret": base64.b32encode(device.bin_key).decode(),
            "error": error,
        }
        return TemplateResponse(request, "admin/two_factor_setup.html", context)
