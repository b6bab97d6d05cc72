import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from comments.wordpress import WordPressImportError, import_wordpress


class Command(BaseCommand):
    help = (
        "Import a WordPress export (WXR 1.0-1.2: Tools > Export > All content): posts as "
        "stories, categories and tags, authors as staff who cannot log in yet, featured images "
        "from a local copy of wp-content/uploads, comments with their threads and statuses, and "
        "301s from the old addresses. One transaction: a file that is refused imports nothing. "
        "Importing the same file again changes nothing. Everything not imported is counted in "
        "the report."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The export file (.xml).")
        parser.add_argument(
            "--uploads",
            type=Path,
            help="A local copy of the site's wp-content/uploads folder, for featured images.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and count everything, store nothing, and print the same report.",
        )

    def handle(self, *args, file, uploads, dry_run, verbosity, **options):
        if not file.is_file():
            raise CommandError(f"There is no file {file}.")
        if uploads is not None and not uploads.is_dir():
            raise CommandError(f"There is no folder {uploads} (given as --uploads).")
        with tqdm(
            desc="Importing", unit=" item", file=sys.stderr, disable=None if verbosity else True
        ) as bar:
            try:
                report = import_wordpress(
                    file, uploads=uploads, dry_run=dry_run, progress=lambda: bar.update()
                )
            except WordPressImportError as error:
                raise CommandError(str(error)) from None
            except OSError as error:
                raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        if dry_run:
            self.stdout.write("Dry run: nothing was saved. The import would do this:")
        for line in report.lines():
            self.stdout.write(line)
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(f"Imported {file}."))
