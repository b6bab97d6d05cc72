"""gunicorn settings for `make serve`: its own logs pass the site's SafeLogFilter too, and the
access log names no client address."""

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
