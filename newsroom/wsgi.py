"""The WSGI entry point gunicorn serves (`newsroom.wsgi:application`).

Importing it starts an app server: when the front cache was last purged for another release,
it is purged now, before anything is served (`frontcache.purge_previous_release`), except under
gunicorn with newsroom/gunicorn_conf.py (NEWSROOM_PURGE_WHEN_READY set), which does it once it
listens (its `when_ready`). Management commands other than `runserver` never import it: not
`migrate`, which a deploy runs while the old release still serves.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
django_application = get_wsgi_application()

from newsroom.caching import frontcache  # noqa: E402 - reads the settings configured above

if not os.environ.get("NEWSROOM_PURGE_WHEN_READY"):
    frontcache.purge_previous_release()


def application(environ, start_response):
    """Django's WSGI application, except that a HEAD answer carries no body.

    Django answers HEAD with GET's status, headers and body and leaves dropping the body to the
    server; gunicorn does drop it but logs a warning for every HEAD request. The answer is
    closed (which ends the request for Django: request_finished, files closed) and nothing is
    sent after the headers, GET's Content-Length included.
    """
    response = django_application(environ, start_response)
    if environ.get("REQUEST_METHOD") != "HEAD":
        return response
    response.close()
    return []
