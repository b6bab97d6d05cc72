"""gunicorn settings for `make serve`: its own logs pass the site's SafeLogFilter too, the
access log names no client address, and a server of a new release purges the front cache once
it listens (`when_ready`)."""

import os

# Tells newsroom/wsgi.py not to purge the front cache as it is imported: when_ready does it.
os.environ["NEWSROOM_PURGE_WHEN_READY"] = "1"

access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

_stream = {"class": "logging.StreamHandler", "formatter": "generic", "filters": ["safe"]}
logconfig_dict = {
    "filters": {"safe": {"()": "newsroom.logging.SafeLogFilter"}},
    "handlers": {
        "console": _stream | {"stream": "ext://sys.stdout"},
        "error_console": _stream | {"stream": "ext://sys.stderr"},
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}

# No runtime-management socket: nothing uses it, and two servers on one host would share it.
control_socket_disable = True

# Workers fork from a master that has already imported the site, so a worker recycled after
# --max-requests (the guard against slow leaks) serves again within milliseconds instead of
# after a third of a second of imports, which showed as p99 spikes under load.
preload_app = True


def when_ready(server):
    """The master has bound its socket and is about to start the workers: purge the front cache
    now if it was last purged for another release (frontcache.purge_previous_release).

    Not as newsroom/wsgi.py is imported: with preload_app the master imports it before it binds,
    and a purge then left the front cache asking a server that did not listen yet (a 503 for
    every page a hard purge had dropped). Now connections wait in the socket's queue until the
    purge is done and a worker takes them, so no request is served by the new release before it.

    Only for Newsroom's own application (bench/run.py serves its bare Django project with these
    settings too), and never a reason not to start: whatever fails here is logged.
    """
    if (getattr(server.app, "app_uri", None) or "").split(":")[0] != "newsroom.wsgi":
        return
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
        import django

        django.setup()  # done already with preload_app; the master needs it otherwise
        from newsroom.caching import frontcache

        frontcache.purge_previous_release()
    except Exception:
        server.log.exception("Front cache not purged for this release")
