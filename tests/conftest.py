from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
SEED_FILE = BASE_DIR / "fixtures" / "seed_cases.txt"


@pytest.fixture
def seed_file():
    return SEED_FILE


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(autouse=True)
def _pages_computed_afresh(settings):
    """No whole-page cache in tests, except where tests/test_page_cache.py turns it on."""
    settings.PAGE_CACHE = False


@pytest.fixture(autouse=True)
def fresh_cache():
    """The API throttle counts requests in the cache; each test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


EDITOR_PERMISSIONS = ["view_case", "add_case", "change_case", "submit_case"]
PUBLISHER_PERMISSIONS = [*EDITOR_PERMISSIONS, "publish_case"]
STAFF_PERMISSIONS = [*PUBLISHER_PERMISSIONS, "delete_case"]


def make_user(username, codenames):
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user(username, password="not-used")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
    )
    return user


def token_client(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def editor_client(db):
    """An editor: creates, edits and submits cases, but cannot publish or delete."""
    return token_client(make_user("editor", EDITOR_PERMISSIONS))


@pytest.fixture
def publisher_client(db):
    return token_client(make_user("publisher", PUBLISHER_PERMISSIONS))


@pytest.fixture
def staff_client(db):
    """Every case permission, deletion included."""
    return token_client(make_user("staff", STAFF_PERMISSIONS))
