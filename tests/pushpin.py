"""A real Pushpin for tests: deploy/pushpin/pushpin.conf.in and deploy/pushpin/routes (pointed at
a test server's port) in a private folder, on free loopback ports; stopped for sure at the end.

    from tests.pushpin import EventStream, requires_pushpin, pushpin

    @requires_pushpin
    def test_...(live_server, tmp_path):
        with pushpin(backend_port, tmp_path) as (front_url, publish_url):
            ...
"""

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from .servers import fetch, free_port

ROOT = Path(__file__).resolve().parent.parent
PUSHPIN = shutil.which("pushpin")
START_SECONDS = 15

requires_pushpin = pytest.mark.skipif(
    PUSHPIN is None, reason="Pushpin is not installed (apt-get install pushpin): no live push test"
)


def configure(folder, *, backend_port, http_port, publish_port):
    """Write pushpin.conf and routes for a backend on 127.0.0.1:`backend_port` into `folder`
    (a Path); returns the config's path. The same substitution `make pushpin` does."""
    routes = (ROOT / "deploy/pushpin/routes").read_text()
    routes = re.sub(r"127\.0\.0\.1:8000$", f"127.0.0.1:{backend_port}", routes, flags=re.M)
    (folder / "routes").write_text(routes)
    config = (ROOT / "deploy/pushpin/pushpin.conf.in").read_text()
    for name, value in {
        "@RUNDIR@": str(folder),
        "@HTTP_PORT@": str(http_port),
        "@PUBLISH_PORT@": str(publish_port),
        "@ROUTES@": str(folder / "routes"),
        "@SIG_KEY@": secrets.token_hex(16),
    }.items():
        config = config.replace(name, value)
    (folder / "pushpin.conf").write_text(config)
    return folder / "pushpin.conf"


def _wait_for_port(port, process, log):
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert process.poll() is None, "pushpin stopped:\n" + log.read_text()
            assert time.monotonic() < deadline, "pushpin did not start:\n" + log.read_text()
            time.sleep(0.1)


def _wait_until_proxying(front_url, process, log):
    """The ports open before Pushpin's services are linked up (a request then gets Pushpin's
    own 5xx): wait until a request reaches the backend."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            status, _headers, _body = fetch(front_url + "/robots.txt", timeout=2)
        except (OSError, http.client.HTTPException):
            status = None  # dropped while it links up
        if status is not None and status < 500:
            return
        assert process.poll() is None, "pushpin stopped:\n" + log.read_text()
        assert time.monotonic() < deadline, "pushpin does not proxy:\n" + log.read_text()
        time.sleep(0.1)


@contextmanager
def pushpin(backend_port, tmp_path):
    """Pushpin in front of 127.0.0.1:`backend_port`; yields (its base URL, the publish URL)."""
    folder = tmp_path / f"pushpin-{backend_port}"
    folder.mkdir()
    http_port, publish_port = free_port(), free_port()
    config = configure(
        folder, backend_port=backend_port, http_port=http_port, publish_port=publish_port
    )
    log = folder / "output.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                PUSHPIN,
                "--config",
                str(config),
                "--port",
                f"127.0.0.1:{http_port}",
                "--merge-output",
            ],
            stdout=out,
            stderr=out,
            start_new_session=True,  # its services (condure, proxy, handler) stop with it
        )
    try:
        _wait_for_port(http_port, process, log)
        _wait_for_port(publish_port, process, log)
        _wait_until_proxying(f"http://127.0.0.1:{http_port}", process, log)
        yield f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{publish_port}/publish/"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class EventStream:
    """A reader's server-sent-event connection (plain HTTP), read event by event."""

    def __init__(self, url, **headers):
        request = urllib.request.Request(url, headers={"Accept": "text/event-stream", **headers})
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                self.response = urllib.request.urlopen(request, timeout=5)  # noqa: S310 - loopback
                return
            except urllib.error.HTTPError as error:
                # Pushpin's own short 500 while its proxy and handler are still linking up
                # after start (the app's 500 is an HTML page, and fails at once).
                body = error.read()
                if error.code != 500 or b"<" in body or time.monotonic() > deadline:
                    raise
            except (TimeoutError, urllib.error.URLError) as error:
                # Right after start a request may also go unanswered while they link up (seen
                # once in CI on a loaded machine): ask again on a new connection.
                timed_out = isinstance(error, TimeoutError) or isinstance(
                    getattr(error, "reason", None), TimeoutError
                )
                if not timed_out or time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def next_event(self):
        """{"id": ..., "event": ..., "data": ...} of the next event; fails after 5 s of quiet."""
        event = {}
        while True:
            line = self.response.readline().decode()
            assert line, "the stream ended"
            line = line.rstrip("\n")
            if not line:
                if event:
                    return event
                continue
            if line.startswith(":"):
                continue  # a keep-alive comment
            name, _, value = line.partition(": ")
            event[name] = value

    def close(self):
        self.response.close()
