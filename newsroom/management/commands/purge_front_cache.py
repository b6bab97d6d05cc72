"""Empty the front cache of this site by hand (e.g. after a rolling deploy, while old servers
kept filling it with the last release's pages)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from newsroom.caching import frontcache


class Command(BaseCommand):
    help = (
        "Purge every page of this site from the front cache NEWSROOM_FRONT_CACHE names "
        "(Varnish, Fastly or Cloudflare). App servers of a new release do this as they start."
    )

    def handle(self, *args, **options):
        if not settings.FRONT_CACHE:
            self.stdout.write("NEWSROOM_FRONT_CACHE is not set: there is no front cache to purge.")
            return
        if not frontcache.purge_everything():
            raise CommandError(
                "The front cache did not confirm the purge (see the warning above); "
                "it still serves its kept pages. Try again once it answers."
            )
        self.stdout.write("Purged every page of this site from the front cache.")
