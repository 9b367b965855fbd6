import datetime
import io
from dataclasses import dataclass, field
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


def forget_fast_path_state():
    """Forget what this process keeps between requests: kept pages and the facet index."""
    from cases import facets
    from cases.freshness import cache

    cache.clear()
    facets.reset()


@pytest.fixture(autouse=True)
def _pages_computed_afresh(settings):
    """No whole-page cache in tests, except where a test turns it on, and then in this
    process's memory unless the test says otherwise (tests/test_shared_page_cache.py);
    nothing kept from the test before."""
    settings.PAGE_CACHE = False
    settings.PAGE_CACHE_ALIAS = None
    forget_fast_path_state()
    yield
    forget_fast_path_state()


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


def token_client(user, scope="write"):
    from rest_framework.test import APIClient

    from cases.api.tokens import issue_token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user, scope=scope)[1]}")
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


# --- Committed data: what production reads ------------------------------------------------

# Words that only unpublished cases carry (titles, summaries, keywords, outlets, reasons):
# no public answer may ever contain them.
UNPUBLISHED_WORDS = ("quokka", "narwhal")

# Moments whose JSON writing has caught PostgreSQL and DRF disagreeing: a leap day, a
# single microsecond, a round tenth of a second.
AWKWARD_MOMENTS = [
    datetime.datetime(2024, 2, 29, 23, 59, 59, 0, tzinfo=datetime.UTC),
    datetime.datetime(2024, 2, 29, 23, 59, 59, 1, tzinfo=datetime.UTC),
    datetime.datetime(1999, 12, 31, 0, 0, 0, 120000, tzinfo=datetime.UTC),
    datetime.datetime(2030, 1, 1, 12, 0, 0, 999999, tzinfo=datetime.UTC),
]


@dataclass
class CommittedCases:
    """The committed cases, by name; `spotlight` is the newest published one and shows
    some of everything a case can have."""

    cases: dict = field(default_factory=dict)
    editor_token: str = ""

    def __getattr__(self, name):
        try:
            return self.__dict__["cases"][name]
        except KeyError:
            raise AttributeError(name) from None


def make_committed_cases():
    """The seed cases and about thirty more, as a small copy of the real data.

    Published cases share keywords, countries, languages, outlets, issues and dates (ties
    included); some have none of them, or text that needs quoting in CSV and escaping in
    JSON. A draft, a case in review and a withdrawn case match the same filters, carry
    UNPUBLISHED_WORDS, are the newest, and are related to the spotlight case.
    """
    from django.core.management import call_command

    from cases.api.tokens import issue_token
    from cases.models import Case, CorrectionNote, Country
    from cases.search import update_search_vectors
    from tests.factories import (
        AppearanceFactory,
        CaseFactory,
        CountryFactory,
        IssueFactory,
        KeywordFactory,
        LanguageFactory,
        OutletFactory,
    )

    call_command("import_cases", str(SEED_FILE), "--status", "published", stdout=io.StringIO())
    world = CommittedCases()
    for n, case in enumerate(Case.objects.order_by("id")):
        world.cases[f"seed_{n}"] = case

    nato, biolabs = KeywordFactory(name="NATO"), KeywordFactory(name="Biolabs")
    elections = KeywordFactory(name="Elections")
    # Names that sort differently by character code and as people sort them.
    zapad, ammunition = KeywordFactory(name="Zapad"), KeywordFactory(name="ammunition")
    ukraine = CountryFactory(name="Ukraine", iso_code="UA")
    russia = CountryFactory(name="Russia")
    eu = CountryFactory(name="EU", kind=Country.Kind.REGION, iso_code="")
    russian = LanguageFactory(code="ru", name="Russian")
    english = LanguageFactory(code="en", name="English")
    truth = OutletFactory(name="Daily Truth", domain="dailytruth.example")
    review = OutletFactory(name="Eurasia Review", domain="")
    issues = [IssueFactory(number=101), IssueFactory(number=102, date=None)]

    keyword_sets = [[nato], [biolabs], [nato, elections], [], [elections, zapad], [biolabs, nato]]
    country_sets = [[ukraine], [russia, ukraine], [eu], [], [russia]]
    language_sets = [[russian], [english], [russian, english], []]
    outlet_sets = [[truth], [review, review], [], [truth, review]]
    for n in range(18):
        case = CaseFactory(
            title=f"Claim {n}: the West stages {('biolabs', 'elections', 'protests')[n % 3]}",
            summary=f"Claim {n}. The outlet said Kyiv and NATO planned it.",
            disproof="No evidence was given.\n\nSee [the report](https://example.org/r).",
            # Three cases a day: ties for every order to break by id.
            date=datetime.date(2020 + n // 3 % 3, 1 + n // 3, 10),
            issue=issues[n % 2] if n % 5 else None,
            keywords=keyword_sets[n % len(keyword_sets)],
            countries=country_sets[n % len(country_sets)],
            languages=language_sets[n % len(language_sets)],
        )
        for k, outlet in enumerate(outlet_sets[n % len(outlet_sets)]):
            AppearanceFactory(
                case=case,
                outlet=outlet,
                url=f"https://{outlet.slug}.example/{n}-{k}",
                archive_url=f"https://archive.example/{n}-{k}" if k == 0 else "",
            )
        world.cases[f"claim_{n}"] = case

    world.cases["undated"] = CaseFactory(
        title="An undated claim about NATO biolabs",
        disproof="A lone\rcarriage return",
        date=None,
        keywords=[nato, biolabs],
    )
    world.cases["quoted"] = quoted = CaseFactory(
        title='A "quoted", title\nover two lines',
        summary='Windows\r\nline ends, a lone\rcarriage return, and "quotes"',
        disproof="  Leading and trailing spaces, été, Россия, 😀  ",
        date=datetime.date(2015, 3, 1),
        issue=IssueFactory(number=1),
        languages=[LanguageFactory(code="fr", name="Français")],
        countries=[
            CountryFactory(name="Bosnia; Herzegovina"),
            CountryFactory(name="Côte d’Ivoire"),
        ],
        keywords=[
            KeywordFactory(name="Comma, keyword"),
            KeywordFactory(name='Say "no"'),
            KeywordFactory(name="Pipe|keyword"),
        ],
    )
    AppearanceFactory(
        case=quoted,
        outlet=OutletFactory(name='The "Outlet"'),
        url="https://outlet.example/a,b?c=d",
        archive_url="",
    )
    AppearanceFactory(
        case=quoted,
        outlet=None,
        url="https://blog.example/p",
        archive_url="https://archive.example/x",
    )
    world.cases["bare"] = CaseFactory(title="\\.", summary="", disproof="", date=None)
    world.cases["one_quote"] = CaseFactory(
        title='"', summary="\n", disproof=" ", date=datetime.date(1999, 12, 31)
    )

    world.cases["spotlight"] = spotlight = CaseFactory(
        title="NATO hides biolabs in Ukraine",
        summary="The outlet said NATO runs secret laboratories near Kyiv.",
        disproof="See [the statement](https://eeas.example/s) and *this*.",
        date=datetime.date(2023, 3, 1),
        issue=issues[0],
        keywords=[zapad, nato, ammunition, biolabs],
        countries=[ukraine, eu],
        languages=[russian, english],
    )
    AppearanceFactory(
        case=spotlight,
        outlet=truth,
        url="https://dailytruth.example/biolabs",
        archive_url="https://archive.example/biolabs",
    )
    AppearanceFactory(case=spotlight, outlet=None, url="https://blog.example/b", archive_url="")
    AppearanceFactory(case=spotlight, outlet=review, url="", archive_url="")
    CorrectionNote.objects.create(case=spotlight, text="Second <b>note</b>.")
    CorrectionNote.objects.create(
        case=spotlight,
        text="First note.",
        created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
    )

    def unpublished(name, status, title, **fields):
        case = CaseFactory(
            title=title,
            summary=f"{title}. Only editors may read this.",
            status=status,
            date=datetime.date(2023, 6, 1),
            issue=issues[0],
            keywords=[nato, biolabs, KeywordFactory(name=f"{title.split()[0]} keyword")],
            countries=[ukraine],
            languages=[russian],
            **fields,
        )
        AppearanceFactory(
            case=case,
            outlet=OutletFactory(name=f"{title.split()[0]} Courier"),
            url=f"https://{name}.example/a",
            archive_url=f"https://archive.example/{name}",
        )
        world.cases[name] = case
        return case

    draft = unpublished("draft", Case.Status.DRAFT, "Quokka draft: NATO biolabs in Ukraine")
    in_review = unpublished("in_review", Case.Status.IN_REVIEW, "Quokka review: biolabs again")
    withdrawn = unpublished(
        "withdrawn",
        Case.Status.WITHDRAWN,
        "Narwhal withdrawn: NATO biolabs",
        withdrawal_reason="Narwhal duplicate.",
        published_at=datetime.datetime(2023, 6, 2, tzinfo=datetime.UTC),
    )
    older = world.cases["claim_3"]
    spotlight.related.add(older, world.claim_4, world.undated, draft, in_review, withdrawn)
    older.related.add(world.claim_5, quoted)
    quoted.related.add(world.bare, world.one_quote, draft)

    timed = ("claim_5", "claim_6", "claim_7", "bare")
    for moment, name in zip(AWKWARD_MOMENTS, timed, strict=True):
        Case.objects.filter(pk=world.cases[name].pk).update(created_at=moment, updated_at=moment)

    update_search_vectors()  # and the words typo suggestions are taken from
    editor = make_user("committed-editor", EDITOR_PERMISSIONS)
    world.editor_token = issue_token(editor, scope="write")[1]
    for name, case in world.cases.items():
        world.cases[name] = Case.objects.get(pk=case.pk)
    return world


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_keepdb, django_db_createdb
):
    """The test database, created once for the session.

    pytest-django creates it only when a collected test is marked django_db; tests of
    committed data are not (the mark would wrap each in a transaction or empty the tables
    after it), so the database is created whenever any test asks for it.
    """
    from django.test.utils import setup_databases, teardown_databases

    verbosity = request.config.option.verbose
    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        databases = setup_databases(
            verbosity=verbosity, interactive=False, aliases={"default"}, keepdb=keepdb
        )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            try:
                teardown_databases(databases, verbosity=verbosity)
            except Exception as error:  # as pytest-django: another session may linger
                request.node.warn(pytest.PytestWarning(f"Test database left behind: {error!r}"))


def empty_the_database():
    """What a transaction=True test leaves behind: every table emptied."""
    from django.core.management import call_command

    call_command("flush", verbosity=0, interactive=False)


@pytest.fixture(scope="module")
def committed_cases(django_db_setup, django_db_blocker):
    """make_committed_cases() committed to PostgreSQL, for the tests of one module.

    Committed rows stamp the data version, so the facet index and the page cache serve
    them as they serve production. Tests read them through `committed` (below); a test
    that writes puts things back as they were. The tables are emptied afterwards.
    """
    from django.db import transaction

    with django_db_blocker.unblock():
        empty_the_database()
        with transaction.atomic():  # one commit: one new data version
            world = make_committed_cases()
        try:
            yield world
        finally:
            empty_the_database()
            forget_fast_path_state()


@pytest.fixture
def committed(committed_cases, django_db_blocker):
    """The committed cases, read as a web process reads them: autocommit, no transaction
    around the test, so the facet index and the page cache engage (when switched on)."""
    with django_db_blocker.unblock():
        yield committed_cases
