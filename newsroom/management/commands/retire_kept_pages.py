"""Retire every page and fragment the app keeps (a new epoch of the store): what to run when
a process logged that it could not purge a change (newsroom.caching.store)."""

from django.core.management.base import BaseCommand, CommandError

from newsroom.caching import store


class Command(BaseCommand):
    help = (
        "Retire every page and fragment the app keeps in its cache (a new epoch of the store): "
        "what to run after a change whose purge could not reach the cache."
    )

    def handle(self, *args, **options):
        if not store.start_new_epoch():
            raise CommandError("The cache did not answer: nothing was retired. Run this again.")
        self.stdout.write("Every kept page and fragment is retired: each is built again.")
