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
