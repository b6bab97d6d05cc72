import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from articles.importers import MAX_BYTES, ResultsImportError, import_results
from articles.models import Event


class Command(BaseCommand):
    help = (
        "Import an event's results from a CSV file (columns: rank, athlete, nation, time, status, "
        "notes). All or nothing: every bad row is reported and nothing is stored. The file "
        "replaces the event's results; importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("event_slug", help="The event's slug, as in its URL.")
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8).")

    def handle(self, *args, event_slug, file, verbosity, **options):
        event = Event.objects.filter(slug=event_slug).first()
        if event is None:
            raise CommandError(f"There is no event with the slug “{event_slug}”.")
        try:
            if file.stat().st_size > MAX_BYTES:
                raise CommandError(f"{file} is too big: at most {MAX_BYTES // 1_000_000} MB.")
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None

        def progress(rows):
            return tqdm(
                rows,
                desc="Importing",
                unit="row",
                file=sys.stderr,
                disable=None if verbosity else True,
            )

        try:
            summary = import_results(event=event, data=data, progress=progress)
        except ResultsImportError as error:
            for problem in error.errors:
                self.stderr.write(str(problem))
            raise CommandError(
                f"Nothing was imported: fix the {len(error.errors)} problem(s) above and try again."
            ) from None
        self.stdout.write(self.style.SUCCESS(f"{event.name}: {summary}"))
