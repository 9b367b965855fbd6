import datetime
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError

from cases.models import (
    Appearance,
    Case,
    Country,
    Issue,
    Keyword,
    Language,
    Outlet,
    PendingReference,
)
from cases.services import editing, imports
from tests.conftest import BASE_DIR
from tests.factories import CaseFactory, CountryFactory, KeywordFactory, OutletFactory

pytestmark = pytest.mark.django_db

SEED_TITLES = [
    "The ears of MI6 stick out from everything that happens in Kazakhstan",
    "Kazakhstan\u2019s destabilisation attempts to obstruct EEU membership and China\u2019s new "
    "Silk Road",
    "The West ordered terrorist attack in Kazakhstan to create hotbed at Russia\u2019s border",
    "Lithuania has nothing to boast about compared to Soviet times",
]
RELATED_TITLES_OF_FIRST_CASE = [
    "CIA and MI6 staged the coup in Armenia",
    "Protests in Kazakhstan are a new Western attempt to organise a colour revolution",
    "Events in Kazakhstan are another Western-made colour revolution",
    "A coup in Kazakhstan was meant to divert Russia\u2019s attention before negotiations",
]


def import_cases(path, *args):
    out = StringIO()
    call_command("import_cases", str(path), *args, stdout=out)
    return out.getvalue()


def database_counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            Case,
            Keyword,
            Country,
            Language,
            Outlet,
            Issue,
            Appearance,
            PendingReference,
            Case.related.through,
            Case.keywords.through,
            Case.countries.through,
            Case.languages.through,
        )
    }


def seed_cases_in_file_order():
    return [Case.objects.get(title=title) for title in SEED_TITLES]


@pytest.fixture
def seeded(seed_file):
    import_cases(seed_file)
    return seed_cases_in_file_order()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestSeedImport:
    def test_the_four_cases_import_with_their_titles_without_the_prefix(self, seed_file):
        output = import_cases(seed_file)

        assert sorted(Case.objects.values_list("title", flat=True)) == sorted(SEED_TITLES)
        assert "4 cases, 4 created, 0 updated, 0 unchanged" in output

    def test_summaries_start_and_end_where_the_text_does(self, seeded):
        expected = [
            ("Many people call the events in Kazakhstan", "from what is planned in Ukraine."),
            ("The destabilisation of Kazakhstan from abroad", "US debacle in Afghanistan persist."),
            ("Western regimes do not really care", "pump even more weapons in Ukraine."),
            ("During the Soviet times, Lithuania was a", "Lithuania has nothing to boast about."),
        ]

        for case, (start, end) in zip(seeded, expected, strict=True):
            assert case.summary.startswith(start)
            assert case.summary.endswith(end)

    def test_disproofs_start_after_the_double_blank_line(self, seeded):
        assert [case.disproof.split(".")[0] for case in seeded] == [
            "This article presents several disinformation claims with no evidence to support "
            "any of them",
            "This is part of a wider disinformation campaign to justify the Russian-led "
            "intervention of the Collective Security Treaty Organisation in Kazakhstan",
            "A new disinformation claim around the crisis in Kazakhstan",
            'Recurring pro-Kremlin disinformation narrative about Lithuania and "decaying" '
            "Baltic States",
        ]
        assert seeded[3].disproof.endswith("compared to its own Soviet times economy.")

    def test_paragraphs_are_joined_by_a_blank_line(self, seeded):
        first = seeded[0]

        assert first.summary.count("\n\n") == 2
        assert first.disproof.count("\n\n") == 4
        assert first.summary.split("\n\n")[1].startswith("The Kazakh Maidan is an attempt")
        assert "\n\n\n" not in first.summary + first.disproof

    def test_non_breaking_spaces_become_single_spaces(self, seeded):
        text = "".join(case.title + case.summary + case.disproof for case in seeded)

        assert "\u00a0" not in text
        assert "  " not in text
        assert "around the world as instigated from abroad" in seeded[0].disproof
        assert "is a result of a Western plan to destabilise" in seeded[2].disproof

    def test_the_read_also_paragraph_is_removed_from_the_disproof(self, seeded):
        first = seeded[0]

        assert "Read also" not in first.disproof
        assert "CIA and MI6 staged the coup" not in first.disproof
        assert first.disproof.endswith("See also the statement by the EU High Representative here.")

    def test_the_first_case_has_the_metadata_of_its_bullets(self, seeded):
        first = seeded[0]

        assert first.issue.number == 270
        assert first.date == datetime.date(2022, 1, 10)
        assert [(lang.code, lang.name) for lang in first.languages.all()] == [("ru", "Russian")]
        assert sorted(first.countries.values_list("name", "iso_code", "kind")) == [
            ("Kazakhstan", "KZ", "country"),
            ("Russia", "RU", "country"),
            ("UK", "GB", "country"),
            ("US", "US", "country"),
        ]
        assert sorted(first.keywords.values_list("name", flat=True)) == sorted(
            [
                "Colour revolutions",
                "Euromaidan",
                "Protest",
                "MI6",
                "Secret services",
                "Intelligence services",
            ]
        )

    def test_cases_without_metadata_get_no_invented_values(self, seeded):
        for case in seeded[1:]:
            assert case.date is None
            assert case.issue is None
            assert not case.languages.exists()
            assert not case.countries.exists()
            assert not case.keywords.exists()
            assert not case.appearances.exists()
            assert not case.pending_references.exists()

    def test_the_first_case_keeps_its_four_related_titles_as_pending_references(self, seeded):
        first = seeded[0]

        titles = list(first.pending_references.values_list("title", flat=True))
        assert titles == RELATED_TITLES_OF_FIRST_CASE
        assert not first.related.exists()

    def test_a_case_added_later_under_a_pending_title_is_linked_both_ways(self, seeded):
        first = seeded[0]

        # Straight apostrophe where the text had a curly one, and no trailing period.
        arrived = CaseFactory(
            title="A coup in Kazakhstan was meant to divert Russia's attention before negotiations"
        )

        assert list(first.related.all()) == [arrived]
        assert list(arrived.related.all()) == [first]
        assert first.pending_references.count() == 3

    def test_a_copy_with_windows_line_endings_and_a_byte_order_mark_reads_the_same(
        self, seed_file, tmp_path
    ):
        text = seed_file.read_text(encoding="utf-8")
        windows_copy = tmp_path / "seed.txt"
        windows_copy.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
        import_cases(seed_file)
        counts = database_counts()

        output = import_cases(windows_copy)

        assert database_counts() == counts
        assert "4 unchanged" in output

    def test_imported_cases_are_drafts_by_default(self, seeded):
        assert {case.status for case in seeded} == {Case.Status.DRAFT}
        assert all(case.published_at is None for case in seeded)

    def test_status_published_publishes_the_created_cases(self, seed_file):
        import_cases(seed_file, "--status", "published")

        assert Case.objects.published().count() == 4
        assert not Case.objects.filter(published_at__isnull=True).exists()

    def test_imported_cases_are_found_by_full_text_search_including_keywords(self, seeded):
        # "Euromaidan" is only a keyword of the first case, not in its text.
        assert list(Case.objects.search("Euromaidan")) == [seeded[0]]
        assert list(Case.objects.search("Lithuania boast")) == [seeded[3]]


class TestReimport:
    def test_importing_the_same_file_twice_changes_nothing(self, seed_file):
        import_cases(seed_file)
        counts = database_counts()
        versions = dict(Case.objects.values_list("pk", "version"))
        updated = dict(Case.objects.values_list("pk", "updated_at"))

        output = import_cases(seed_file)

        assert database_counts() == counts
        assert dict(Case.objects.values_list("pk", "version")) == versions
        assert dict(Case.objects.values_list("pk", "updated_at")) == updated
        assert "0 created, 0 updated, 4 unchanged" in output

    def test_a_changed_file_updates_the_existing_case_instead_of_adding_one(
        self, seed_file, tmp_path
    ):
        import_cases(seed_file)
        first = Case.objects.get(title=SEED_TITLES[0])
        changed = seed_file.read_text(encoding="utf-8").replace(
            "Keywords: Colour revolutions,", "Keywords: Hybrid war, Colour revolutions,"
        )
        changed = changed.replace("Many people call", "Many commentators call")

        output = import_cases(write(tmp_path, "seed.txt", changed))

        assert Case.objects.count() == 4
        first_after = Case.objects.get(pk=first.pk)
        assert first_after.summary.startswith("Many commentators call")
        assert first_after.version == first.version + 1
        assert first_after.keywords.filter(name="Hybrid war").exists()
        assert "0 created, 1 updated, 3 unchanged" in output

    def test_a_file_without_metadata_keeps_what_editors_added(self, seed_file):
        import_cases(seed_file)
        second = Case.objects.get(title=SEED_TITLES[1])
        second.keywords.add(KeywordFactory(name="Eurasian Economic Union"))

        import_cases(seed_file)

        assert list(second.keywords.values_list("name", flat=True)) == ["Eurasian Economic Union"]

    def test_a_dated_entry_completes_the_undated_case_with_the_same_title(
        self, seed_file, tmp_path
    ):
        import_cases(seed_file)
        second = Case.objects.get(title=SEED_TITLES[1])
        csv_file = write(tmp_path, "dated.csv", f"title,date\n{SEED_TITLES[1]},2022-01-09\n")

        import_cases(csv_file)

        assert Case.objects.count() == 4
        assert Case.objects.get(pk=second.pk).date == datetime.date(2022, 1, 9)

    def test_cases_with_the_same_title_and_different_dates_are_different_cases(self, tmp_path):
        csv_file = write(
            tmp_path,
            "recurring.csv",
            "title,date\nNATO is an aggressor,2020-05-01\nNATO is an aggressor,2021-05-01\n",
        )

        import_cases(csv_file)
        import_cases(csv_file)

        dates = Case.objects.order_by("date").values_list("date", flat=True)
        assert list(dates) == [datetime.date(2020, 5, 1), datetime.date(2021, 5, 1)]


# Seven lines: the next case or bullet starts on line 8.
GOOD_TEXT_CASE = "Disinfo: A good claim\n\nWhat was claimed.\n\n\nWhy it is false.\n\n"


class TestMalformedFiles:
    """Every bad file names its line, fails the command, and leaves the database as it was."""

    @pytest.fixture(autouse=True)
    def existing_data(self, seed_file):
        import_cases(seed_file)

    def assert_rejected(self, path, line, reason):
        counts = database_counts()

        with pytest.raises(CommandError) as error:
            import_cases(path)

        assert str(error.value) == f"{path}:{line}: {reason}"
        assert database_counts() == counts

    def test_a_title_line_without_a_body_after_good_cases(self, tmp_path):
        text = GOOD_TEXT_CASE + "Disinfo: Another good one\n\nClaim.\n\n\nDebunk.\n\n"
        path = write(tmp_path, "cases.txt", text + "Disinfo: No body here\n\n")

        self.assert_rejected(path, 15, "summary: 'Disinfo:' title without a summary and disproof")

    def test_an_impossible_date(self, tmp_path):
        bullets = "  \u2022 Reported in: Issue 3\n  \u2022 DATE OF PUBLICATION: 31/02/2022\n"
        path = write(tmp_path, "cases.txt", GOOD_TEXT_CASE + "\n" + bullets + "see more\n")

        self.assert_rejected(path, 10, "date: not a date in the form DD/MM/YYYY ('31/02/2022')")

    def test_a_non_numeric_issue(self, tmp_path):
        path = write(tmp_path, "cases.txt", GOOD_TEXT_CASE + "  \u2022 Reported in: Issue 27O\n")

        self.assert_rejected(path, 8, "issue: not a number ('27O')")

    def test_an_unknown_metadata_bullet(self, tmp_path):
        path = write(tmp_path, "cases.txt", GOOD_TEXT_CASE + "  \u2022 Mood: grim\n")

        self.assert_rejected(path, 8, "unknown metadata line ('Mood: grim')")

    def test_text_after_see_more(self, tmp_path):
        text = GOOD_TEXT_CASE + "  \u2022 Keywords: NATO\nsee more\n\nStray paragraph\n"
        path = write(tmp_path, "cases.txt", text)

        self.assert_rejected(path, 11, "text after 'see more' ('Stray paragraph')")

    def test_text_before_the_first_title(self, tmp_path):
        path = write(tmp_path, "cases.txt", "\nEUvsDisinfo export\n" + GOOD_TEXT_CASE)

        self.assert_rejected(path, 2, "text before the first 'Disinfo:' title line")

    def test_a_csv_with_an_unknown_column(self, tmp_path):
        path = write(tmp_path, "cases.csv", "title,mood\nA claim,grim\n")

        self.assert_rejected(
            path,
            1,
            "header: unknown column (known: id, url, source_id, source_url, status, title, date, "
            "summary, disproof, issue, languages, language_codes, countries, country_slugs, "
            "keywords, keyword_slugs, outlets, outlet_slugs, urls, archive_urls, related, "
            "created_at, updated_at, published_at) ('mood')",
        )

    def test_a_csv_without_a_title_column(self, tmp_path):
        path = write(tmp_path, "cases.csv", "summary,date\nSomething,2022-01-01\n")

        self.assert_rejected(path, 1, "header: missing column 'title'")

    def test_a_csv_row_without_a_title(self, tmp_path):
        path = write(tmp_path, "cases.csv", "title,summary\nA claim,Fine\n ,No title\n")

        self.assert_rejected(path, 3, "title: missing")

    def test_a_csv_row_with_the_wrong_number_of_cells_after_a_multiline_cell(self, tmp_path):
        text = 'title,summary\n"A claim","Two\nlines"\nB claim,x,extra\n'
        path = write(tmp_path, "cases.csv", text)

        self.assert_rejected(path, 4, "expected 2 cells, found 3")

    def test_a_csv_date_in_the_wrong_format(self, tmp_path):
        path = write(tmp_path, "cases.csv", "title,date\nA claim,2022-01-01\nB claim,10/01/2022\n")

        self.assert_rejected(path, 3, "date: not a date in the form YYYY-MM-DD ('10/01/2022')")

    def test_a_csv_issue_that_is_not_a_number(self, tmp_path):
        path = write(tmp_path, "cases.csv", "title,issue\nA claim,two\n")

        self.assert_rejected(path, 2, "issue: not a number ('two')")

    def test_a_csv_with_an_invalid_url(self, tmp_path):
        path = write(tmp_path, "cases.csv", "title,outlets,urls\nA claim,RT,not a url\n")

        self.assert_rejected(path, 2, "urls: invalid URL ('not a url')")

    def test_invalid_json_names_the_line_of_the_syntax_error(self, tmp_path):
        path = write(tmp_path, "cases.json", '[\n  {"title": "A claim"},\n  {"title": }\n]\n')

        self.assert_rejected(path, 3, "invalid JSON: Expecting value")

    def test_a_json_case_without_a_title_names_the_line_where_it_starts(self, tmp_path):
        text = '{"count": 2, "results": [\n  {"title": "A claim"},\n\n  {\n "summary": "x"}\n]}'
        path = write(tmp_path, "cases.json", text)

        self.assert_rejected(path, 4, "title: missing")

    def test_a_json_case_with_a_bad_date(self, tmp_path):
        path = write(tmp_path, "cases.json", '[{"title": "A claim", "date": "2022-13-01"}]')

        self.assert_rejected(path, 1, "date: not a date in the form YYYY-MM-DD ('2022-13-01')")

    def test_the_same_case_twice_in_one_file(self, tmp_path):
        path = write(tmp_path, "cases.csv", "title,date\nA claim,2022-01-01\na claim.,2022-01-01\n")

        self.assert_rejected(
            path, 3, "title: same title and date as the case on line 2 ('a claim.')"
        )

    def test_a_database_error_on_a_late_case_rolls_back_the_whole_file(self, tmp_path, monkeypatch):
        # The third row changes a case already in the database: it goes through the write
        # path case by case, after the new cases were written in bulk.
        def refuse(case, title):
            raise DatabaseError("refused")

        monkeypatch.setattr(editing, "_add_related_title", refuse)
        existing = Case.objects.order_by("id").first()
        text = (
            "title,date,related\nNew claim one,,\nNew claim two,,\n"
            f"{existing.title},{existing.date},Elsewhere\n"
        )
        path = write(tmp_path, "cases.csv", text)

        self.assert_rejected(path, 4, "could not be saved: refused")

    # _insert_staged() runs in the thread that writes chunk by chunk; _relate() after it.
    @pytest.mark.parametrize("step", ["_insert_staged", "_relate"])
    def test_a_database_error_in_the_bulk_write_rolls_back_the_whole_file(
        self, tmp_path, monkeypatch, step
    ):
        def refuse(*args):
            raise DatabaseError("refused")

        monkeypatch.setattr(imports, step, refuse)
        path = write(tmp_path, "cases.csv", "title\nNew claim one\nNew claim two\n")
        counts = database_counts()

        with pytest.raises(CommandError) as error:
            import_cases(path)

        assert str(error.value) == f"{path}: could not be saved: refused"
        assert database_counts() == counts

    def test_the_command_exits_non_zero_and_prints_path_line_and_reason(self, tmp_path):
        path = write(tmp_path, "cases.txt", GOOD_TEXT_CASE + "  \u2022 Reported in: Issue x\n")

        result = subprocess.run(
            [sys.executable, "manage.py", "import_cases", str(path)],
            cwd=BASE_DIR,
            env=os.environ,
            capture_output=True,
            text=True,
        )

        assert result.returncode != 0
        assert f"{path}:8: issue: not a number ('x')" in result.stderr


class TestCsvImport:
    def test_multi_value_cells_are_split_on_the_given_separator(self, tmp_path):
        text = (
            "title,date,issue,languages,countries,keywords,outlets,urls,archive_urls\n"
            "A claim,2022-01-10,270,Russian|English,UK|Baltic states,NATO|Protest,"
            "RT||Sputnik,https://rt.com/a|https://x.example/b|,||https://archive.example/c\n"
        )
        path = write(tmp_path, "cases.csv", text)

        import_cases(path, "--sep", "|")

        case = Case.objects.get()
        assert case.date == datetime.date(2022, 1, 10)
        assert case.issue.number == 270
        assert sorted(case.languages.values_list("name", "code")) == [
            ("English", "en"),
            ("Russian", "ru"),
        ]
        assert sorted(case.countries.values_list("name", "iso_code", "kind")) == [
            ("Baltic states", "", "region"),
            ("UK", "GB", "country"),
        ]
        assert sorted(case.keywords.values_list("name", flat=True)) == ["NATO", "Protest"]
        appearances = case.appearances.order_by("id").values_list(
            "outlet__name", "url", "archive_url"
        )
        assert list(appearances) == [
            ("RT", "https://rt.com/a", ""),
            (None, "https://x.example/b", ""),
            ("Sputnik", "", "https://archive.example/c"),
        ]

    def test_the_format_can_be_given_when_the_extension_says_nothing(self, tmp_path):
        path = write(tmp_path, "cases.dat", "title;keywords\nA claim;NATO\n".replace(";", ","))

        import_cases(path, "--format", "csv")

        assert Case.objects.get().keywords.get().name == "NATO"

    def test_an_unknown_extension_without_format_is_refused(self, tmp_path):
        path = write(tmp_path, "cases.dat", "title\nA claim\n")

        with pytest.raises(CommandError, match="pass --format"):
            import_cases(path)


class TestTaxonomyMatching:
    def test_names_match_existing_values_whatever_their_case(self, tmp_path):
        keyword = KeywordFactory(name="Protest")
        country = CountryFactory(name="Kazakhstan", iso_code="KZ")
        russian = Language.objects.create(code="ru", name="Russian")
        outlet = OutletFactory(name="RT")
        text = "title,languages,countries,keywords,outlets\nA claim,RUSSIAN,kazakhstan,pROTEST,rt\n"
        counts = database_counts()

        import_cases(write(tmp_path, "cases.csv", text))

        case = Case.objects.get()
        assert list(case.keywords.all()) == [keyword]
        assert list(case.countries.all()) == [country]
        assert list(case.languages.all()) == [russian]
        assert case.appearances.get().outlet == outlet
        assert Keyword.objects.count() == counts["Keyword"]
        assert Country.objects.count() == counts["Country"]
        assert Language.objects.count() == counts["Language"]
        assert Outlet.objects.count() == counts["Outlet"]

    def test_languages_also_match_by_code(self, tmp_path):
        russian = Language.objects.create(code="ru", name="Russian")

        import_cases(write(tmp_path, "cases.csv", "title,languages\nA claim,RU\n"))

        assert list(Case.objects.get().languages.all()) == [russian]

    def test_new_languages_get_their_bcp_47_code_and_english_name(self, tmp_path):
        text = "title,languages\nA claim,Ukrainian;Moldovan;Old Church Slavonic;de\n"

        import_cases(write(tmp_path, "cases.csv", text))

        assert sorted(Language.objects.values_list("name", "code")) == [
            ("Church Slavic", "cu"),
            ("German", "de"),
            ("Moldovan", "ro-MD"),
            ("Ukrainian", "uk"),
        ]

    def test_new_countries_get_their_iso_code_and_regions_none(self, tmp_path):
        text = "title,countries\nA claim,Ukraine;EU;The West;Atlantis\n"

        import_cases(write(tmp_path, "cases.csv", text))

        assert sorted(Country.objects.values_list("name", "iso_code", "kind")) == [
            ("Atlantis", "", "country"),
            ("EU", "", "alliance"),
            ("The West", "", "region"),
            ("Ukraine", "UA", "country"),
        ]

    def test_another_name_for_a_known_country_reuses_it(self, tmp_path):
        united_kingdom = CountryFactory(name="United Kingdom", iso_code="GB")

        import_cases(write(tmp_path, "cases.csv", "title,countries\nA claim,UK\n"))

        assert list(Case.objects.get().countries.all()) == [united_kingdom]
        assert Country.objects.count() == 1
