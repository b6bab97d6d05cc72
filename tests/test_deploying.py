"""A deploy empties the front cache: the pages of the previous release stop being served as
soon as an app server of the new one starts, whatever front cache NEWSROOM_FRONT_CACHE names;
a restart of the same release keeps them; a front cache that is down never stops a start; and
operators can empty it by hand (`manage.py purge_front_cache`).

Real gunicorn servers behind a real Varnish (tests/frontcache.py), on a SQLite file of their
own; the CDNs' purge APIs are a local server that records the calls."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from newsroom.caching import frontcache

from .frontcache import Recorder, request, requires_varnish, varnish
from .servers import ROOT, environment, fetch, free_port, gunicorn, manage

NEW_SITE_CSS = "css/site.0123456789ab.css"


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    """Two releases of the site on one migrated SQLite database with the demo content: their
    static roots (the
    second's stylesheet changed, so its manifest and RELEASE differ) and stylesheet URLs."""
    root = tmp_path_factory.mktemp("releases")
    database = f"sqlite:///{root / 'db.sqlite3'}"
    old, new = root / "static-old", root / "static-new"
    manage("migrate", "--noinput", env=environment(DATABASE_URL=database))
    manage("seed_demo", env=environment(DATABASE_URL=database))  # stories and results to keep
    manage("collectstatic", "--noinput", env=environment(STATIC_ROOT=str(old)))
    shutil.copytree(old, new)
    manifest = json.loads((new / "staticfiles.json").read_text())
    old_css = manifest["paths"]["css/site.css"]
    shutil.copy(new / old_css, new / NEW_SITE_CSS)
    manifest["paths"]["css/site.css"] = NEW_SITE_CSS
    (new / "staticfiles.json").write_text(json.dumps(manifest))
    return {
        "database": database,
        "old": old,
        "new": new,
        "old_css": f"/static/{old_css}".encode(),
        "new_css": f"/static/{NEW_SITE_CSS}".encode(),
    }


@pytest.fixture
def deployment(releases, tmp_path):
    """Start app servers of either release on one port, sharing one cache (where the release
    the front cache was purged for is recorded), purging a front cache on `front_port`."""
    app_port, front_port = free_port(), free_port()

    def server(release, **env):
        return gunicorn(
            tmp_path,
            releases[release],
            port=app_port,
            DATABASE_URL=releases["database"],
            NEWSROOM_CACHE_DIR=str(tmp_path / "cache"),
            NEWSROOM_FRONT_CACHE=f"varnish://127.0.0.1:{front_port}",
            **env,
        )

    def front(probe_interval="3600s"):
        return varnish(app_port, tmp_path, port=front_port, probe_interval=probe_interval)

    return server, front


def home(front):
    status, headers, body = request(front.url, "GET", "/")
    assert status == 200, body
    return headers["X-Cache"], body


@requires_varnish
def test_a_new_releases_server_stops_the_front_cache_serving_the_last_ones_pages(
    releases, deployment
):
    """Warm `/`, change the stylesheet, collect static files, migrate (the old release still
    serving), restart: the next reader gets the page that links the new stylesheet."""
    server, front_cache = deployment
    with front_cache() as front:
        with server("old"):
            home(front)
            cache_state, body = home(front)
            assert cache_state == "HIT" and releases["old_css"] in body
        manage("migrate", "--noinput", env=environment(DATABASE_URL=releases["database"]))
        assert home(front)[0] == "HIT"  # a management command purges nothing
        with server("new") as (_url, log):
            cache_state, body = home(front)
            assert cache_state == "MISS"
            assert releases["new_css"] in body and releases["old_css"] not in body
            assert "Front cache purged for release" in log.read_text()


@requires_varnish
def test_a_restart_of_the_same_release_purges_nothing(deployment):
    """The kept page carries the site-wide tag a new release purges, and survives a restart."""
    server, front_cache = deployment
    with front_cache() as front:
        with server("old"):
            _, kept = home(front)
        with server("old") as (_url, log):
            cache_state, body = home(front)
            assert cache_state == "HIT" and body == kept
            assert "Front cache purged" not in log.read_text()
        assert front.purge(frontcache.SITE_TAG) == 1


@requires_varnish
def test_a_front_cache_that_is_down_does_not_stop_a_start_and_is_purged_at_the_next(
    deployment,
):
    """Varnish down while the server starts: it serves all the same, says so and records no
    purge, so the next start of the same release (Varnish back) purges."""
    server, front_cache = deployment
    with server("old") as (url, log):
        assert request(url, "GET", "/")[0] == 200
        assert "Front cache not purged for release" in log.read_text()
    with front_cache() as front, server("old") as (_url, log):
        assert "Front cache purged for release" in log.read_text()
        home(front)
        assert home(front)[0] == "HIT"


@requires_varnish
def test_operators_purge_the_whole_front_cache_by_hand(releases, deployment, tmp_path):
    """`manage.py purge_front_cache` (e.g. after a rolling deploy): every kept page goes."""
    server, front_cache = deployment
    with front_cache() as front, server("old"):
        for path in ("/", "/feed/", "/robots.txt"):
            request(front.url, "GET", path)
            assert request(front.url, "GET", path)[1]["X-Cache"] == "HIT", path
        env = environment(
            DATABASE_URL=releases["database"],
            NEWSROOM_CACHE_DIR=str(tmp_path / "cache"),
            NEWSROOM_FRONT_CACHE=f"varnish://{front.url.removeprefix('http://')}",
        )
        assert "Purged every page" in manage("purge_front_cache", env=env).stdout
        for path in ("/", "/feed/", "/robots.txt"):
            assert request(front.url, "GET", path)[1]["X-Cache"] == "MISS", path


def test_purging_by_hand_a_front_cache_that_is_down_is_a_clear_error(settings):
    settings.FRONT_CACHE = f"varnish://127.0.0.1:{free_port()}"
    with pytest.raises(CommandError, match="did not confirm the purge"):
        call_command("purge_front_cache")


def sent_tags(call, cdn):
    method, path, headers, body = call
    assert method == "POST"
    if cdn == "fastly":
        assert path == "/service/SERVICE1/purge"
        assert headers["fastly-soft-purge"] == "1"  # the release purge is soft where it can be
        return headers["surrogate-key"].split()
    assert path == "/client/v4/zones/ZONE1/purge_cache"
    return json.loads(body)["tags"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cdn", "header"), [("fastly", "Surrogate-Key"), ("cloudflare", "Cache-Tag")]
)
def test_a_cdn_is_purged_of_the_whole_site_once_per_release(settings, recorder, cdn, header):
    """Public pages carry the site-wide tag in the CDN's header; a server of a new release
    purges it once, and one of the same release again purges nothing."""
    address, api = recorder
    settings.FRONT_CACHE = (
        f"{cdn}://{'SERVICE1' if cdn == 'fastly' else 'ZONE1'}?api=http://{address}"
    )
    assert frontcache.SITE_TAG in Client().get("/")[header].replace(",", " ").split()
    assert frontcache.purge_previous_release(release="release-2") is True
    assert frontcache.purge_previous_release(release="release-2") is False
    assert [sent_tags(call, cdn) for call in api.calls] == [[frontcache.SITE_TAG]]
    assert frontcache.purge_previous_release(release="release-3") is True
    assert len(api.calls) == 2


def test_servers_starting_together_purge_once(settings, recorder):
    """Eight processes' start hooks at the same moment: one purge between them."""
    address, api = recorder
    settings.FRONT_CACHE = f"fastly://SERVICE1?api=http://{address}"
    start = threading.Barrier(8)
    results = []

    def start_server():
        start.wait()
        results.append(frontcache.purge_previous_release(release="release-2"))

    threads = [threading.Thread(target=start_server) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert len(api.calls) == 1


def test_a_refused_cdn_purge_is_tried_again_at_the_next_start(settings, recorder):
    """The CDN answers an error: logged, nothing recorded, so the next start purges."""
    address, api = recorder
    settings.FRONT_CACHE = f"cloudflare://ZONE1?api=http://{address}"
    api.status = 500
    assert frontcache.purge_previous_release(release="release-2") is False
    api.status = 200
    assert frontcache.purge_previous_release(release="release-2") is True
    assert len(api.calls) == 2


def pages_kept_by(front):
    """`/`, `/results/` and a story, each asked twice through `front` (kept: a HIT), once its
    health probe finds the app server up."""
    deadline = time.monotonic() + 10
    while (answer := request(front.url, "GET", "/"))[0] != 200:
        assert time.monotonic() < deadline, answer
        time.sleep(0.1)
    home_page = answer[2]
    story = re.search(rb'href="(/stories/[^/"]+/)"', home_page).group(1).decode()
    pages = ("/", "/results/", story)
    for path in pages:
        request(front.url, "GET", path)
        assert request(front.url, "GET", path)[1]["X-Cache"] == "HIT", path
    return pages


@requires_varnish
def test_kept_pages_are_served_while_no_server_answers_after_a_release_purge(
    releases, deployment, settings
):
    """A new release's purge reaches the front cache while no app server answers (the old one
    stopped, the new one not listening yet): readers still get the kept pages, not a 503; once
    the new server answers, the next reader of each page gets the new release's."""
    server, front_cache = deployment
    with front_cache() as front:
        with server("old"):
            pages = pages_kept_by(front)
        settings.FRONT_CACHE = f"varnish://{front.url.removeprefix('http://')}"
        assert frontcache.purge_previous_release(release="a-new-release") is True
        for path in pages:
            status, _, body = request(front.url, "GET", path)
            assert status == 200 and releases["old_css"] in body, (path, status)
        with server("new"):
            for path in pages:
                status, headers, body = request(front.url, "GET", path)
                assert status == 200 and headers["X-Cache"] == "MISS", (path, status)
                assert releases["new_css"] in body and releases["old_css"] not in body, path


@requires_varnish
def test_a_restart_of_a_new_release_never_answers_503_for_a_kept_page(releases, deployment):
    """The deploy a reviewer saw fail: pages kept, the old server stopped long enough for the
    front cache's health probe to mark it down, a server of the new release started. Every
    answer is 200 throughout, and the new release's pages follow once it answers."""
    server, front_cache = deployment
    with front_cache(probe_interval="0.2s") as front:
        with server("old"):
            pages = pages_kept_by(front)
        answers, stopping = [], threading.Event()

        def read():
            while not stopping.is_set():
                for path in pages:
                    status, _, body = request(front.url, "GET", path)
                    answers.append((path, status, releases["new_css"] in body))
                time.sleep(0.02)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            time.sleep(1.5)  # the probe (every 0.2 s) has marked the stopped server down
            with server("new"):
                deadline = time.monotonic() + 10
                while {path for path, _, new in answers[-9:] if new} != set(pages):
                    assert time.monotonic() < deadline, answers[-9:]
                    time.sleep(0.1)
                stopping.set()
        finally:
            stopping.set()
            reader.join()
    failed = [answer for answer in answers if answer[1] != 200]
    assert answers and not failed, (len(failed), failed[:5])


class PortProbingRecorder(Recorder):
    """The purge API, which also notes whether the app server accepted a connection when the
    call arrived (`answering`)."""

    app_port = None
    answering = []

    def handle_any(self):
        try:
            socket.create_connection(("127.0.0.1", self.app_port), timeout=1).close()
            self.answering.append(True)
        except OSError:
            self.answering.append(False)
        super().handle_any()

    do_POST = do_PURGE = handle_any


def test_gunicorn_purges_for_a_new_release_once_it_listens(releases, tmp_path):
    """The release purge reaches the front cache only once the server accepts connections
    (gunicorn's when_ready), never from the preloading master before it binds its socket:
    a hard purge (Cloudflare) must not leave the front cache with nothing to serve."""
    PortProbingRecorder.calls, PortProbingRecorder.answering = [], []
    PortProbingRecorder.app_port = free_port()
    api = ThreadingHTTPServer(("127.0.0.1", 0), PortProbingRecorder)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    try:
        with gunicorn(
            tmp_path,
            releases["new"],
            port=PortProbingRecorder.app_port,
            DATABASE_URL=releases["database"],
            NEWSROOM_CACHE_DIR=str(tmp_path / "cache"),
            NEWSROOM_FRONT_CACHE=f"cloudflare://ZONE1?api=http://127.0.0.1:{api.server_port}",
        ) as (_url, log):
            assert "Front cache purged for release" in log.read_text()
    finally:
        api.shutdown()
        api.server_close()
    assert PortProbingRecorder.answering == [True]


def test_the_gunicorn_settings_serve_another_django_project_too(tmp_path):
    """bench/run.py serves a bare `django-admin startproject` with `make serve`'s gunicorn
    command line, settings included: the release purge is Newsroom's own, and that server
    starts and answers."""
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "ceiling", str(tmp_path)], check=True
    )
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
        "DJANGO_SETTINGS_MODULE": "ceiling.settings",
    }
    command = [sys.executable, "-m", "gunicorn", "ceiling.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--config", "python:newsroom.gunicorn_conf", "--workers", "1"]
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 30
        while "Booting worker" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        status = fetch(f"http://127.0.0.1:{port}/")[0]
        assert status == 200, log.read_text()  # startproject's welcome page (DEBUG on)
        assert "Traceback" not in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=10)
