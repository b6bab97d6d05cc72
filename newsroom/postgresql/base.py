"""Django's PostgreSQL backend, made to fail fast when the database hangs (settings.py selects it
for every postgres:// URL).

A PostgreSQL that is alive but not answering (stopped, swapping, cut off behind a firewall that
drops packets) does not refuse connections: the kernel still accepts them and acknowledges what
is sent, so neither TCP keepalives nor a server-side statement_timeout end the wait, and psycopg
waits for an answer for ever. While a request is being served (`deadline`, set by
newsroom.middleware.DatabaseUnavailableMiddleware):

- every wait for the server (a query, a commit, Django's health check) is given at most the
  request's deadline plus a little; past it the connection is closed and OperationalError is
  raised (the site's 503 page, /healthz's 503);
- connections opened then carry `statement_timeout` = DATABASE_TIMEOUT_SECONDS, so a live but
  slow server cancels the statement itself, first;
- after such a failure (or a failed connect) this process does not ask the database again for
  RETRY_AFTER_SECONDS: every query fails at once, so the workers stay free to serve kept pages.

Outside requests (manage.py commands, migrations, tests' setup) nothing is bounded: a migration
may rightly take minutes.
"""

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from psycopg.errors import _WaitTimeout  # what Connection.wait raises past its timeout

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0
GRACE_SECONDS = 0.25  # a live server's own statement_timeout answer arrives before we give up

_deadline = ContextVar("database_deadline", default=None)
_down_until = 0.0


@contextmanager
def deadline(seconds):
    """Within the block, each wait for the database lasts at most `seconds` (a float; None or
    0: unbounded) plus GRACE_SECONDS, and a connection opened carries a statement_timeout of
    DATABASE_TIMEOUT_SECONDS. Nested blocks: the innermost counts."""
    token = _deadline.set(seconds or None)
    try:
        yield
    finally:
        _deadline.reset(token)


def _note_down(error):
    global _down_until
    if _down_until == 0.0:
        logger.error("Database not answering, not asked again for a while: %s", error)
    _down_until = time.monotonic() + RETRY_AFTER_SECONDS


def _check_not_down():
    global _down_until
    if _down_until and _deadline.get() is not None:
        if time.monotonic() < _down_until:
            raise psycopg.OperationalError("database not answering (recently timed out)")
        _down_until = 0.0


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose waits for the server end at the current `deadline`."""

    def wait(self, gen, interval=0.1, timeout=None):
        seconds = _deadline.get()
        if timeout is None and seconds is not None:
            timeout = seconds + GRACE_SECONDS
        try:
            return super().wait(gen, interval=interval, timeout=timeout)
        except _WaitTimeout as error:
            # The server holds a half-sent exchange: this connection cannot be used again.
            self.pgconn.finish()
            _note_down(error)
            raise psycopg.OperationalError(
                f"database did not answer within {timeout:.1f} s"
            ) from error


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's PostgreSQL DatabaseWrapper with DeadlineConnection (see the module's doc)."""

    def get_connection_params(self):
        params = super().get_connection_params()
        if _deadline.get() is not None:
            # The request's deadline, not a shorter one of the moment (/healthz's): the
            # connection is kept for later requests.
            timeout = f"-c statement_timeout={int(settings.DATABASE_TIMEOUT_SECONDS * 1000)}"
            params["options"] = f"{params.get('options', '')} {timeout}".strip()
        return params

    def get_new_connection(self, conn_params):
        _check_not_down()
        try:
            connection = super().get_new_connection(conn_params)  # bounded by connect_timeout
        except psycopg.OperationalError as error:
            if _deadline.get() is not None:
                _note_down(error)
            raise
        if type(connection) is psycopg.Connection:  # not one from a pool
            # Django calls psycopg.connect() itself; DeadlineConnection only adds a method.
            connection.__class__ = DeadlineConnection
        return connection
