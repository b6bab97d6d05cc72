"""The optional read replica (DATABASE_REPLICA_URL): reads go to it, writes to the primary.

A replica lags a little, so whoever may just have written reads from the primary: every request
that is not GET or HEAD, and every request from a browser with a session (staff) or a comment
cookie (a reader whose own comment must show at once). Reads inside a transaction stay on the
primary too.
"""

from contextvars import ContextVar

from django.db import connections

from comments import cookies

_pinned = ContextVar("pinned_to_primary", default=False)
PERSONAL_COOKIES = (cookies.PENDING, cookies.AUTHOR)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _pinned.get() or connections["default"].in_atomic_block:
            return "default"
        return "replica"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two connections

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def needs_primary(request):
    from django.conf import settings

    names = {settings.SESSION_COOKIE_NAME, *map(cookies.cookie_name, PERSONAL_COOKIES)}
    return request.method not in ("GET", "HEAD") or any(name in request.COOKIES for name in names)


class PrimaryForWritersMiddleware:
    """Pins a request's reads to the primary when `needs_primary()` says so."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _pinned.set(needs_primary(request))
        try:
            return self.get_response(request)
        finally:
            _pinned.reset(token)
