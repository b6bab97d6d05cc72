"""The ASGI entry point; like newsroom/wsgi.py, importing it purges the front cache when it was
last purged for another release (`frontcache.purge_previous_release`)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
application = get_asgi_application()

from newsroom.caching import frontcache  # noqa: E402 - reads the settings configured above

frontcache.purge_previous_release()
