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
