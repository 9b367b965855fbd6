"""manage.py create_api_token <username> [--scope read|write] [--expires-in-days N] [--name ...]

Prints the new key once: only its hash is stored.
"""

import datetime

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.api.tokens import issue_token
from cases.models import ApiToken


class Command(BaseCommand):
    help = "Make an API token for a user and print its key, which is shown only this once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default="read")
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="Default: never expires."
        )
        parser.add_argument("--name", default="", help="Who or what uses it.")

    def handle(self, username, scope, expires_in_days, name, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user is called {username!r}.") from None
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be 1 or more.")
        expires_at = (
            timezone.now() + datetime.timedelta(days=expires_in_days) if expires_in_days else None
        )
        token, key = issue_token(user, scope=scope, expires_at=expires_at, name=name)
        self.stderr.write(
            f"Token {token.prefix}… for {user.username}, scope {scope}, "
            + (f"expires {expires_at:%Y-%m-%d %H:%M} UTC." if expires_at else "never expires.")
            + " The key is shown only now:"
        )
        self.stdout.write(key)
