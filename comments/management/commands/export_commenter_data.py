import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from comments.privacy import export_commenter_data


def valid_email(value):
    try:
        validate_email(value)
    except ValidationError as error:
        raise CommandError("Give the commenter's email address, like name@example.com.") from error
    return value


class Command(BaseCommand):
    help = "Print, as JSON, everything stored about the commenter with this email address."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        data = export_commenter_data([valid_email(email)])
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
        if not data["comments"]:
            self.stderr.write("No comments were written with that address.")
