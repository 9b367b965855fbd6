from django.core.management.base import BaseCommand, CommandError

from cases.models import Case
from cases.readmodels.csv import DEFAULT_SEPARATOR, sql_csv_lines
from cases.readmodels.json_export import sql_json_lines, sql_ndjson_lines


class Command(BaseCommand):
    help = (
        "Export cases as JSON or NDJSON (the API representation, with status when drafts "
        "are included) or CSV (every column, lossless); import_cases reads each back."
    )
    # The system checks (models, admin, URLs) take most of a second and concern the web
    # site, not an export: `manage.py check` runs them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "ndjson", "csv"], default="json")
        parser.add_argument("--output", help="File to write (default: standard output).")
        parser.add_argument(
            "--status",
            choices=["published", "all"],
            default="published",
            help="Published cases only (default), or every case including drafts.",
        )
        parser.add_argument(
            "--sep", default=DEFAULT_SEPARATOR, help="Separator of multi-value CSV cells."
        )

    def handle(self, *args, **options):
        output, sep = options["output"], options["sep"]
        include_drafts = options["status"] == "all"
        cases = Case.objects.all() if include_drafts else Case.objects.published()
        cases = cases.order_by("id")
        if options["format"] == "csv":
            chunks = sql_csv_lines(cases, sep=sep, include_drafts=include_drafts)
        elif options["format"] == "ndjson":
            chunks = sql_ndjson_lines(cases, include_drafts=include_drafts)
        else:
            chunks = sql_json_lines(cases, include_drafts=include_drafts)

        # The chunks are UTF-8 text, as PostgreSQL wrote it (bytes).
        if output is None:
            for chunk in chunks:
                self.stdout.write(chunk.decode(), ending="")
            return
        try:
            with open(output, "wb") as file:
                file.writelines(chunks)
        except OSError as error:
            raise CommandError(f"{output}: {error.strerror or error}") from error
        self.stderr.write(f"Wrote {output}.")
