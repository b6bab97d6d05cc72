"""A real Varnish front cache for tests: deploy/varnish/newsroom.vcl on a free loopback port, in
front of any backend port, in its own working directory; stopped for sure at the end.

    from tests.frontcache import requires_varnish, varnish

    @requires_varnish
    def test_something(tmp_path):
        with varnish(backend_port, tmp_path) as front:
            urllib.request.urlopen(front.url + "/")   # through the cache
            front.purge("article-12", "nav")           # -> number of objects purged

Skips (via `requires_varnish`, or `missing()` for a custom reason) when varnishd or the xkey
module (Debian: varnish, varnish-modules) is not installed.
"""

import glob
import http.client
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple

import pytest

from .servers import free_port

ROOT = Path(__file__).resolve().parent.parent
VCL_PATH = ROOT / "deploy" / "varnish" / "newsroom.vcl"
BACKEND_PORT_LINE = '.port = "8000";'
PUSHPIN_PORT_LINE = '.port = "7999";'
START_SECONDS = 30
VMOD_DIRS = (
    "/usr/lib/*/varnish/vmods",
    "/usr/lib/varnish/vmods",
    "/usr/lib64/varnish/vmods",
    "/usr/local/lib/varnish/vmods",
)


def varnishd_path():
    """The varnishd binary (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("varnishd")
    if found:
        return found
    for candidate in ("/usr/sbin/varnishd", "/usr/local/sbin/varnishd"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def xkey_vmod_path():
    for pattern in VMOD_DIRS:
        for path in glob.glob(os.path.join(pattern, "libvmod_xkey.so")):
            return path
    return None


def missing():
    """Why a real front cache cannot run here, or None when it can."""
    if varnishd_path() is None:
        return "varnishd is not installed (Debian: apt-get install varnish varnish-modules)"
    if xkey_vmod_path() is None:
        return "Varnish's xkey module is not installed (Debian: apt-get install varnish-modules)"
    return None


requires_varnish = pytest.mark.skipif(missing() is not None, reason=missing() or "")


def vcl_for_port(backend_port, probe_interval=None, pushpin_port=None):
    """deploy/varnish/newsroom.vcl with its backend on `backend_port` (the one port line), and
    its health probe every `probe_interval` (a VCL duration such as "0.2s") when given."""
    text = VCL_PATH.read_text()
    assert text.count(BACKEND_PORT_LINE) == 1, f"{VCL_PATH} must have one {BACKEND_PORT_LINE}"
    text = text.replace(BACKEND_PORT_LINE, f'.port = "{int(backend_port)}";')
    if pushpin_port is not None:  # where live streams are piped (see the VCL's pushpin backend)
        text = text.replace(PUSHPIN_PORT_LINE, f'.port = "{int(pushpin_port)}";')
    if probe_interval is not None:
        text, count = re.subn(
            r"\.interval = [0-9.]+[a-z]+;", f".interval = {probe_interval};", text
        )
        assert count == 1, f"{VCL_PATH} must have one probe .interval line"
    return text


def marked_alternatives_in_vcl(block, pattern):
    """The `a|b|c` alternatives of the regex that `pattern` finds (its group 1) inside the
    VCL's block marked "BEGIN <block>" ... "END <block>", as a list."""
    text = VCL_PATH.read_text()
    marked = re.search(rf"BEGIN {block}(.*?)END {block}", text, re.S)
    assert marked, f"{VCL_PATH} has no marked list of {block}"
    found = re.search(pattern, marked.group(1))
    assert found, f"the {block}' regex has changed shape: update this parser"
    return found.group(1).split("|")


def personal_cookies_in_vcl():
    """The cookie names in the VCL's marked list of personal cookies (a set)."""
    pattern = r'req\.http\.Cookie ~ "\(\^\|;\\s\*\)\(([^)]*)\)="'
    return set(marked_alternatives_in_vcl("personal cookies", pattern))


def tracking_parameters_in_vcl():
    """What the VCL's marked tracking-parameter block drops: (prefixes, exact names), sets."""
    pattern = r'"&\(([^)]*)\)\(=\[\^&\]\*\)\?\(\?=&\|\$\)"'
    alternatives = marked_alternatives_in_vcl("tracking parameters", pattern)
    prefixes = {a.removesuffix("[^=&]*") for a in alternatives if a.endswith("[^=&]*")}
    return prefixes, {a for a in alternatives if not a.endswith("[^=&]*")}


# A link's query string as sent, and as every view and cache key must see it (app and VCL).
TRACKING_CASES = [
    ("fbclid=IwAR0abc", ""),
    ("fbclid", ""),
    ("utm_source=newsletter&utm_medium=email&utm_campaign=race-day", ""),
    ("page=2&gclid=Cj0KCQ", "page=2"),
    ("utm_source=x&page=2&fbclid=y&corder=newest", "page=2&corder=newest"),
    ("q=sprint&utm_term=sprint&utm_content=", "q=sprint"),
    ("q=utm_source%3Dx&msclkid=1", "q=utm_source%3Dx"),
    # Look-alikes are someone's real parameters: kept.
    (
        "utm=1&utmsource=2&fbclid_x=3&xfbclid=4&gclidx=5",
        "utm=1&utmsource=2&fbclid_x=3&xfbclid=4&gclidx=5",
    ),
    ("page=3", "page=3"),
]


def request(base_url, method, path, headers=None, body=None, timeout=10):
    """One plain HTTP request (nothing decoded or followed): (status, headers, body bytes).
    `headers` of the answer is an http.client.HTTPMessage (case-insensitive `.get`)."""
    host, port = base_url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


class FrontCache(NamedTuple):
    url: str  # http://127.0.0.1:PORT, no trailing slash
    purge: object  # purge(*tags) -> number of objects purged (vmod xkey, hard purge)
    purge_url: object  # purge_url(path) -> HTTP status of a classic PURGE of one URL
    log_path: Path  # varnishd's own output (startup errors)


@contextmanager
def varnish(
    backend_port, tmp_dir=None, *, memory="64m", probe_interval=None, port=None, pushpin_port=None
):
    """A varnishd running deploy/varnish/newsroom.vcl in front of 127.0.0.1:`backend_port`.

    Yields a FrontCache (`url`, `purge(*tags)`, `purge_url(path)`, `log_path`); the whole
    process group is stopped on exit. Working files go to `tmp_dir` (a fresh temporary
    directory when None, removed afterwards). `probe_interval` shortens the health probe's
    period (tests of a backend marked down). `port`: where it listens (a free one when None).
    `pushpin_port`: where live streams are piped (Pushpin; 7999 when None)."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    own_tmp = None
    if tmp_dir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="newsroom-varnish-")
        tmp_dir = own_tmp.name
    port = port or free_port()
    work = Path(tmp_dir) / f"varnish-{port}"
    work.mkdir(parents=True)
    vcl = work / "newsroom.vcl"
    vcl.write_text(vcl_for_port(backend_port, probe_interval, pushpin_port))
    log_path = work / "varnishd.log"
    command = [
        varnishd_path(),
        "-F",  # foreground: the process we start is the manager; it stops its child
        "-j", "none",  # no privilege drop: the cache process can read our temporary files
        "-a", f"127.0.0.1:{port}",
        "-f", str(vcl),
        "-n", str(work / "instance"),
        "-s", f"malloc,{memory}",
        "-t", "0",  # as documented: what does not say how long to keep is not kept
        "-p", "thread_pools=1",
        "-p", "thread_pool_min=10",
    ]  # fmt: skip
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"

    def purge(*tags):
        status, headers, body = request(
            base_url, "PURGE", "/", headers={"xkey-purge": " ".join(tags)}
        )
        assert status == 200, (status, body)
        return int(headers["X-Purged"])

    def purge_url(path):
        return request(base_url, "PURGE", path)[0]

    try:
        _wait_until_ready(process, base_url, log_path)
        yield FrontCache(base_url, purge, purge_url, log_path)
    finally:
        _stop(process)
        if own_tmp is not None:
            own_tmp.cleanup()


def _wait_until_ready(process, base_url, log_path):
    """Until the cache process answers with our VCL loaded (a purge of a tag nobody has)."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            raise AssertionError("varnishd exited:\n" + log_path.read_text())
        try:
            status, _, _ = request(
                base_url, "PURGE", "/", headers={"xkey-purge": "frontcache-ready"}, timeout=2
            )
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            _stop(process)
            raise AssertionError("varnishd did not start:\n" + log_path.read_text())
        time.sleep(0.1)


def _stop(process):
    """Stop the manager and its cache child: the process group we started (its own session)."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # the manager stops its child, then exits
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, 0)  # anything of ours left in the group (a stuck child)?
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=5)


class Recorder(BaseHTTPRequestHandler):
    """A CDN's or Varnish's purge API: records each call as (method, path, headers with
    lower-case names, body) in `calls` and answers `status`."""

    calls = []
    status = 200

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.calls.append((self.command, self.path, headers, body))
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PURGE = handle_any

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    """The recording purge API on a free loopback port: yields ("127.0.0.1:PORT", Recorder)."""
    Recorder.calls, Recorder.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", Recorder
    server.shutdown()
    server.server_close()
