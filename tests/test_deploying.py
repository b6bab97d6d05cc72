"""A deploy empties the front cache: the pages of the previous release stop being served as
soon as an app server of the new one starts, whatever front cache NEWSROOM_FRONT_CACHE names;
a restart of the same release keeps them; a front cache that is down never stops a start; and
operators can empty it by hand (`manage.py purge_front_cache`).

Real gunicorn servers behind a real Varnish (tests/frontcache.py), on a SQLite file of their
own; the CDNs' purge APIs are a local server that records the calls."""

import json
import shutil
import threading

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from newsroom.caching import frontcache

from .frontcache import request, requires_varnish, varnish
from .servers import environment, free_port, gunicorn, manage

NEW_SITE_CSS = "css/site.0123456789ab.css"


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    """Two releases of the site on one migrated SQLite database: their static roots (the
    second's stylesheet changed, so its manifest and RELEASE differ) and stylesheet URLs."""
    root = tmp_path_factory.mktemp("releases")
    database = f"sqlite:///{root / 'db.sqlite3'}"
    old, new = root / "static-old", root / "static-new"
    manage("migrate", "--noinput", env=environment(DATABASE_URL=database))
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

    def front():
        return varnish(app_port, tmp_path, port=front_port, probe_interval="3600s")

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
