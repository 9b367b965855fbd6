"""A bad import file is read to the end: every problem is reported at once, as
`file:line: field: reason (value)`, up to --max-errors; nothing is written. --skip-invalid
imports the rest and writes the rejected records to a side file."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cases.importers import CaseImportError, ImportErrors, parse_file, parse_file_collecting
from cases.importers.base import shortened
from cases.models import Case

pytestmark = pytest.mark.django_db

CSV_HEADER = "source_url,title,date,issue,outlets,urls\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def import_cases(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_cases", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rejected_lines(path, *args):
    with pytest.raises(CommandError) as error:
        import_cases(path, *args)
    return str(error.value).splitlines()


def test_values_are_quoted_and_shortened_to_about_80_characters():
    assert shortened("Sputnik") == "'Sputnik'"
    assert shortened("line\nbreak") == "'line\\nbreak'"
    long = shortened("Sputnik " * 30)
    assert long.startswith("'Sputnik Sputnik") and long.endswith("\u2026'")
    assert len(long) <= 80
    assert shortened(12) == "12"


def test_every_problem_of_a_csv_file_is_reported_in_one_pass(tmp_path):
    long_outlet = "Sputnik " * 30
    text = CSV_HEADER + (
        "https://euvsdisinfo.eu/report/a/,A fine claim,2022-01-01,1,RT,https://rt.com/a\n"
        f"not a url,Bad source,2022-13-01,x,{long_outlet},ftp//nowhere\n"
        "https://euvsdisinfo.eu/report/c/, ,2022-01-03,3,RT,https://rt.com/c\n"
        "https://euvsdisinfo.eu/report/d/,Too many,2022-01-04,4,RT,https://rt.com/d,extra\n"
    )
    path = write(tmp_path, "cases.csv", text)

    lines = rejected_lines(path)

    assert lines == [
        f"{path}:3: date: not a date in the form YYYY-MM-DD ('2022-13-01')",
        f"{path}:3: issue: not a number ('x')",
        f"{path}:3: outlets: name is longer than 200 characters ({shortened(long_outlet.strip())})",
        f"{path}:3: urls: invalid URL ('ftp//nowhere')",
        f"{path}:3: source_url: invalid URL ('not a url')",
        f"{path}:4: title: missing",
        f"{path}:5: expected 6 cells, found 7",
        "7 problems: nothing was imported.",
    ]
    assert Case.objects.count() == 0


def test_the_check_stops_at_max_errors(tmp_path):
    rows = "".join(f"https://euvsdisinfo.eu/report/{n}/,Claim {n},bad,,,\n" for n in range(10))
    path = write(tmp_path, "cases.csv", CSV_HEADER + rows)

    lines = rejected_lines(path, "--max-errors", "3")

    assert lines == [
        f"{path}:2: date: not a date in the form YYYY-MM-DD ('bad')",
        f"{path}:3: date: not a date in the form YYYY-MM-DD ('bad')",
        f"{path}:4: date: not a date in the form YYYY-MM-DD ('bad')",
        "stopped after 3 errors",
        "3 problems: nothing was imported.",
    ]


def test_a_file_with_exactly_max_errors_problems_is_not_called_truncated(tmp_path):
    rows = "https://euvsdisinfo.eu/report/1/,Claim,bad,,,\n"
    path = write(tmp_path, "cases.csv", CSV_HEADER + rows)

    assert rejected_lines(path, "--max-errors", "1") == [
        f"{path}:2: date: not a date in the form YYYY-MM-DD ('bad')"
    ]


def test_every_problem_of_a_csv_header_is_reported(tmp_path):
    path = write(tmp_path, "cases.csv", "summary,mood,summary\nx,y,z\n")

    lines = rejected_lines(path)

    assert lines[0].startswith(f"{path}:1: header: unknown column (known: id, url, ")
    assert lines[0].endswith(") ('mood')")
    assert lines[1:] == [
        f"{path}:1: header: column appears twice ('summary')",
        f"{path}:1: header: missing column 'title'",
        "3 problems: nothing was imported.",
    ]


def test_every_problem_of_an_ndjson_file_is_reported(tmp_path):
    text = "\n".join(
        [
            json.dumps({"title": "Fine", "source_url": "https://euvsdisinfo.eu/report/f/"}),
            '{"title": "Broken JSON",',
            json.dumps({"title": "Bad", "date": "yesterday", "status": "gone", "id": -4}),
            json.dumps({"title": "Bad keywords", "keywords": [{"slug": "x"}, 3]}),
            json.dumps(["not an object"]),
        ]
    )
    path = write(tmp_path, "cases.ndjson", text + "\n")

    lines = rejected_lines(path)

    assert lines == [
        f"{path}:2: invalid JSON: Expecting property name enclosed in double quotes",
        f"{path}:3: date: not a date in the form YYYY-MM-DD ('yesterday')",
        f"{path}:3: id: not a positive whole number (-4)",
        f"{path}:3: status: is not one of draft, in_review, published, withdrawn ('gone')",
        f"{path}:4: keywords: every item needs a name ({{'slug': 'x'}})",
        f"{path}:4: keywords: every item needs a name (3)",
        f"{path}:5: a case must be a JSON object",
        "7 problems: nothing was imported.",
    ]


def test_every_problem_of_a_text_file_names_its_own_line(tmp_path):
    text = (
        "Disinfo: First claim\n\nClaim.\n\n\nDebunk.\n\n"
        "  \u2022 Reported in: Issue x\n"
        "  \u2022 DATE OF PUBLICATION: 31/02/2022\n"
        "Disinfo: Second claim\n\nClaim.\n\n\nDebunk.\n\n"
        "  \u2022 Mood: grim\n"
    )
    path = write(tmp_path, "cases.txt", text)

    assert rejected_lines(path) == [
        f"{path}:8: issue: not a number ('x')",
        f"{path}:9: date: not a date in the form DD/MM/YYYY ('31/02/2022')",
        f"{path}:17: unknown metadata line ('Mood: grim')",
        "3 problems: nothing was imported.",
    ]


def test_one_error_is_still_a_case_import_error_and_several_are_import_errors(tmp_path):
    one = write(tmp_path, "one.csv", "title,date\nA,bad\n")
    two = write(tmp_path, "two.csv", "title,date\nA,bad\nB,worse\n")

    with pytest.raises(CaseImportError) as error:
        parse_file(one)
    assert not isinstance(error.value, ImportErrors)
    assert (error.value.line, error.value.field, error.value.reason) == (
        2,
        "date",
        "not a date in the form YYYY-MM-DD",
    )

    with pytest.raises(ImportErrors) as errors:
        parse_file(two)
    assert [problem.line for problem in errors.value.problems] == [2, 3]
    assert errors.value.line == 2  # the first problem's, for callers that show one


class TestDuplicates:
    def lines(self, tmp_path, rows):
        path = write(tmp_path, "cases.csv", "source_id,source_url,title,date\n" + rows)
        result = parse_file_collecting(path)
        return [problem.message.removeprefix(f"{path}:") for problem in result.problems.items]

    def test_the_same_source_id_twice(self, tmp_path):
        rows = "7,,A claim,2022-01-01\n7,,Another claim,2022-02-02\n"
        assert self.lines(tmp_path, rows) == [
            "3: source_id: same source id as the case on line 2 ('7')"
        ]

    def test_the_same_source_url_twice_even_with_another_slash(self, tmp_path):
        rows = (
            ",https://euvsdisinfo.eu/report/a/,A claim,2022-01-01\n"
            ",https://EUvsDisinfo.eu/report/a,Other,2022-01-02\n"
        )
        assert self.lines(tmp_path, rows) == [
            "3: source_url: same source URL as the case on line 2 "
            "('https://EUvsDisinfo.eu/report/a')"
        ]

    def test_one_title_and_date_with_different_source_urls_are_two_cases(self, tmp_path):
        rows = (
            ",https://euvsdisinfo.eu/report/a/,A claim,2022-01-01\n"
            ",https://euvsdisinfo.eu/report/a-2/,A claim,2022-01-01\n"
            ",,A claim,2022-01-01\n"
        )
        assert self.lines(tmp_path, rows) == []

    def test_one_title_and_date_without_source_keys_is_one_case_twice(self, tmp_path):
        rows = ",,A claim,2022-01-01\n,,a claim.,2022-01-01\n"
        assert self.lines(tmp_path, rows) == [
            "3: title: same title and date as the case on line 2 ('a claim.')"
        ]


class TestSkipInvalid:
    def test_ndjson_rejects_go_to_a_text_file_with_reasons_and_records(self, tmp_path):
        good = json.dumps({"title": "Good", "source_url": "https://euvsdisinfo.eu/report/g/"})
        bad = json.dumps({"title": "Bad", "source_url": "euvsdisinfo.eu/report/b"})
        path = write(tmp_path, "cases.ndjson", f"{good}\n{bad}\n")

        out, err = import_cases(path, "--skip-invalid")

        assert "1 created" in out and "1 rejected" in out
        assert err.strip() == f"{path}:2: source_url: invalid URL ('euvsdisinfo.eu/report/b')"
        assert list(Case.objects.values_list("title", flat=True)) == ["Good"]
        side = (tmp_path / "cases.ndjson.rejected.txt").read_text(encoding="utf-8")
        assert side == f"2: source_url: invalid URL ('euvsdisinfo.eu/report/b')\n{bad}\n\n"

    def test_text_rejects_keep_the_whole_case(self, tmp_path):
        good = "Disinfo: Good\n\nClaim.\n\n\nDebunk.\n"
        bad = "Disinfo: Bad\n\nClaim.\n\n\nDebunk.\n  \u2022 Reported in: Issue x\n"
        path = write(tmp_path, "cases.txt", good + bad)

        import_cases(path, "--skip-invalid")

        side = (tmp_path / "cases.txt.rejected.txt").read_text(encoding="utf-8")
        assert side == "13: issue: not a number ('x')\n" + bad + "\n"
        assert list(Case.objects.values_list("title", flat=True)) == ["Good"]

    def test_a_duplicate_is_rejected_and_the_first_kept(self, tmp_path):
        path = write(tmp_path, "cases.csv", "title,date\nA claim,2022-01-01\nA claim,2022-01-01\n")

        out, _err = import_cases(path, "--skip-invalid")

        assert "1 created" in out and "1 rejected" in out
        side = (tmp_path / "cases.csv.rejected.csv").read_text(encoding="utf-8")
        assert side.splitlines() == [
            "title,date,reason",
            "A claim,2022-01-01,title: same title and date as the case on line 2 ('A claim')",
        ]

    def test_a_file_that_cannot_be_read_at_all_still_fails(self, tmp_path):
        path = write(tmp_path, "cases.json", "[{")

        with pytest.raises(CommandError, match="invalid JSON"):
            import_cases(path, "--skip-invalid")

    def test_rejected_without_skip_invalid_is_refused(self, tmp_path):
        path = write(tmp_path, "cases.csv", "title\nA\n")

        with pytest.raises(CommandError, match="--rejected goes with --skip-invalid"):
            import_cases(path, "--rejected", str(tmp_path / "x.csv"))


@pytest.mark.parametrize("sep", ["", "\\", "ab", '"'])
def test_a_separator_must_be_one_plain_character(tmp_path, sep):
    path = write(tmp_path, "cases.csv", "title\nA\n")

    with pytest.raises(CommandError, match="--sep must be one character"):
        import_cases(path, "--sep", sep)
