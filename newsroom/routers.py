"""The optional read replica (DATABASE_REPLICA_URL): reads go to it, writes to the primary.

A replica lags a little, so whoever may just have written reads from the primary: every request
personal to one browser (newsroom.caching.is_personal: anything but GET or HEAD, a session, a
comment cookie of a reader whose own comment must show at once). Reads inside a transaction stay
on the primary too.
"""

from contextvars import ContextVar

from django.db import connections

from newsroom.caching import is_personal

_pinned = ContextVar("pinned_to_primary", default=False)


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


class PrimaryForWritersMiddleware:
    """Pins a personal request's reads to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _pinned.set(is_personal(request))
        try:
            return self.get_response(request)
        finally:
            _pinned.reset(token)
