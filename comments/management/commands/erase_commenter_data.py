from django.core.management.base import BaseCommand

from comments.privacy import erase_commenter_data

from .export_commenter_data import valid_email


class Command(BaseCommand):
    help = (
        "Anonymise every comment written with this email address (name becomes Anonymous, "
        "email and website are removed), or delete them with --delete."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--delete",
            action="store_true",
            help="Delete the comments instead; replies by other people are kept.",
        )

    def handle(self, *args, email, delete, **options):
        count = erase_commenter_data([valid_email(email)], delete=delete)
        done = "Deleted" if delete else "Anonymised"
        self.stdout.write(f"{done} {count} comment{'s' if count != 1 else ''}.")
