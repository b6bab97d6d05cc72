"""The WSGI entry point gunicorn serves (`newsroom.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
django_application = get_wsgi_application()


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
