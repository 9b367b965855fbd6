import gc
import sys
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError

from cases.importers import (
    DEFAULT_MAX_ERRORS,
    FORMATS,
    CaseImportError,
    guess_format,
    parse_file_collecting,
    rejected_path_for,
    set_aside_unknown_names,
    write_rejected,
)
from cases.importers.taxonomy import TaxonomyResolver
from cases.models import Case
from cases.services.imports import STATUS_FROM_FILE, save_cases

HELP = """\
Import cases from a text (EUvsDisinfo layout), CSV, JSON or NDJSON file.

Identity: a case is found by its source id, else its source URL; an entry without a source
key matches the case with its title and date. An entry with a source key that matches no
key takes the case with its title and date only if that case has no source key itself;
otherwise it is a new case. Found cases are updated, the others created.

Errors: the whole file is checked first and every problem is printed as
`file:line: field: reason (value)` (up to --max-errors); then nothing is written and the
command fails. With --skip-invalid the valid entries are imported and the rejected ones
written with their reasons to a side file.

CSV: multi-value cells are split on --sep; a separator or backslash inside an item is
escaped with a backslash (\\; and \\\\). A cell starting with a quote before = + - @ loses
that quote (exports add it so that spreadsheets show text, not a formula).
"""


class Command(BaseCommand):
    help = HELP
    # The system checks (models, admin, URLs) take most of a second and concern the web
    # site, not an import: `manage.py check` runs them.
    requires_system_checks = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        kwargs.setdefault("formatter_class", RawDescriptionHelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="Default: from the extension (.txt, .csv, .json, .ndjson).",
        )
        parser.add_argument(
            "--sep",
            default=";",
            help="Separator of multi-value CSV cells: one character, not a backslash.",
        )
        parser.add_argument(
            "--status",
            choices=[Case.Status.DRAFT, Case.Status.PUBLISHED, STATUS_FROM_FILE],
            default=Case.Status.DRAFT,
            help=(
                "Status of the cases the import creates (default: draft). from-file: the "
                "file's status column or key (an export's), draft where it gives none."
            ),
        )
        parser.add_argument(
            "--max-errors",
            type=int,
            default=DEFAULT_MAX_ERRORS,
            help=f"Stop checking after this many problems (default {DEFAULT_MAX_ERRORS}).",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid entries; write the rejected ones with their reasons to "
            "<file>.rejected.csv (CSV) or <file>.rejected.txt, or to --rejected.",
        )
        parser.add_argument("--rejected", help="Where --skip-invalid writes rejected entries.")
        parser.add_argument(
            "--keep-ids",
            action="store_true",
            help="Keep the `id` of each case of a file this site exported.",
        )

    def handle(self, *args, **options):
        with no_cyclic_garbage_collection():
            self.import_file(options)

    def import_file(self, options):
        path, sep, status = options["path"], options["sep"], options["status"]
        max_errors, skip_invalid = options["max_errors"], options["skip_invalid"]
        file_format = options["format"] or guess_format(path)
        if file_format is None:
            raise CommandError(
                f"{path}: unknown extension; pass --format text, csv, json or ndjson"
            )
        if len(sep) != 1 or sep in '\\"\r\n':
            raise CommandError(
                "--sep must be one character, not a backslash, a quote or a line break"
            )
        if max_errors < 1:
            raise CommandError("--max-errors must be at least 1")
        if options["rejected"] and not skip_invalid:
            raise CommandError("--rejected goes with --skip-invalid")
        try:
            result = parse_file_collecting(
                path,
                file_format,
                sep=sep,
                max_errors=None if skip_invalid else max_errors,
                stream=sys.stderr,
            )
        except CaseImportError as error:
            raise CommandError(error_text(error)) from error
        error = result.error()
        resolver = None
        if error is None or skip_invalid:
            # Names the database cannot resolve (an unknown language) are problems too.
            resolver = TaxonomyResolver()
            set_aside_unknown_names(result, resolver, stream=sys.stderr)
            error = result.error()
        if error is not None and not skip_invalid:
            raise CommandError(error_text(error))

        rejected_out = None
        if result.rejected:
            rejected_out = options["rejected"] or rejected_path_for(path, file_format)
            try:
                write_rejected(result, rejected_out)
            except OSError as os_error:
                raise CommandError(f"{rejected_out}: {os_error.strerror or os_error}") from None
            shown = result.problems.items[:max_errors]
            for problem in shown:
                self.stderr.write(problem.message)
            if len(result.problems) > len(shown):
                self.stderr.write(f"... and {len(result.problems) - len(shown)} more problems")
        try:
            summary = save_cases(
                result.valid,
                status,
                source=path,
                keep_ids=options["keep_ids"],
                skipped=len(result.rejected),
                resolver=resolver,
            )
        except CaseImportError as save_error:
            raise CommandError(error_text(save_error)) from save_error
        line = (
            f"{path}: {summary.total} cases, {summary.created} created, "
            f"{summary.updated} updated, {summary.unchanged} unchanged"
        )
        if skip_invalid:
            line += f", {len(result.rejected)} rejected"
            if rejected_out:
                line += f" (written to {rejected_out})"
        self.stdout.write(line + ".")


@contextmanager
def no_cyclic_garbage_collection():
    """A big file makes millions of objects that live until the import ends. Python's cyclic
    collector would walk them again and again to find nothing to free: a third of the time
    of reading a 100,000-case file. Reference counting still frees everything else."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def error_text(error):
    """Every problem, one a line; a summary line when there are several."""
    problems = error.problems
    text = str(error)
    if len(problems) > 1 or getattr(error, "truncated", False):
        text += f"\n{len(problems)} problems: nothing was imported."
    return text
