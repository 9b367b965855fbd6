"""API tokens: hashed, scoped, optionally expiring, and their use recorded.

Clients send `Authorization: Token <key>`, as with DRF's own tokens, whose parsing of the
header this reuses. Why not django-rest-knox: its authentication deletes an expired token
on sight and answers "Invalid token." (clients must be told the token expired), reads all
of the user's tokens on every request, and has no scopes and no record of use; it would be
overridden in its model and its authentication alike, leaving only `secrets` and `hashlib`.
"""

import datetime
import hashlib
import secrets

from axes.helpers import get_client_ip_address
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import SAFE_METHODS

from cases.models import ApiToken, ApiTokenUse

# A token's last use is written at most this often for reads; every write is recorded.
READ_RECORD_INTERVAL = datetime.timedelta(minutes=1)


def digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(user, scope=ApiToken.Scope.READ, expires_at=None, name=""):
    """A new token and its key: the only moment the key is known."""
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        digest=digest(key),
        prefix=key[:8],
        scope=scope,
        expires_at=expires_at,
    )
    return token, key


def set_new_key(token):
    """Give an unsaved token made in the admin its key; returns the key."""
    key = secrets.token_urlsafe(32)
    token.digest, token.prefix = digest(key), key[:8]
    return key


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's `Token <key>` header, checked against ApiToken digests."""

    def authenticate(self, request):
        credentials = super().authenticate(request)
        if credentials is not None:
            record_use(credentials[1], request)
        return credentials

    def authenticate_credentials(self, key):
        try:
            token = ApiToken.objects.select_related("user").get(digest=digest(key))
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if token.has_expired():
            raise exceptions.AuthenticationFailed(
                f"Token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC: ask for a new one."
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token


def record_use(token, request):
    """Writes always; reads when the token's last use is more than a minute old, so that a
    partner syncing thousands of pages costs one write a minute, not one a request."""
    now = timezone.now()
    is_write = request.method not in SAFE_METHODS
    stale = token.last_used_at is None or now - token.last_used_at >= READ_RECORD_INTERVAL
    if not (is_write or stale):
        return
    if stale:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    ApiTokenUse.objects.create(
        token=token,
        at=now,
        method=request.method,
        path=request.get_full_path()[:500],
        ip_address=get_client_ip_address(request),
    )
