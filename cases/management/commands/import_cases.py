from django.core.management.base import BaseCommand, CommandError

from cases.importers import FORMATS, CaseImportError, guess_format, parse_file
from cases.importers.taxonomy import taxonomy_errors
from cases.models import Case
from cases.services.imports import save_cases


class Command(BaseCommand):
    help = (
        "Import cases from a text (EUvsDisinfo layout), CSV, JSON or NDJSON file. Existing cases "
        "(same title and date) are updated; a file with an error changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="Default: from the extension (.txt, .csv, .json, .ndjson).",
        )
        parser.add_argument("--sep", default=";", help="Separator of multi-value CSV cells.")
        parser.add_argument(
            "--status",
            choices=[Case.Status.DRAFT, Case.Status.PUBLISHED],
            default=Case.Status.DRAFT,
            help="Status of the cases the import creates (default: draft).",
        )

    def handle(self, *args, **options):
        path, sep, status = options["path"], options["sep"], options["status"]
        file_format = options["format"] or guess_format(path)
        if file_format is None:
            raise CommandError(
                f"{path}: unknown extension; pass --format text, csv, json or ndjson"
            )
        if not sep:
            raise CommandError("--sep cannot be empty")
        try:
            parsed_cases = parse_file(path, file_format, sep=sep)
            for error in taxonomy_errors(parsed_cases)[:1]:
                raise error
            summary = save_cases(parsed_cases, status)
        except CaseImportError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{path}: {summary.total} cases, {summary.created} created, "
            f"{summary.updated} updated, {summary.unchanged} unchanged."
        )
