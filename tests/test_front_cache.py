"""The app behind a real Varnish (deploy/varnish/newsroom.vcl): public pages kept at the edge,
purged by tag the moment a change commits, personal requests passed; and the oracle again,
through Varnish. Skips without varnishd and the xkey module (.ci/run installs them)."""

import contextlib
import gzip
import re

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test import Client, override_settings
from django.test.testcases import LiveServerThread
from hypothesis.stateful import invariant, run_state_machine_as_test

from comments import services
from comments.models import Comment
from newsroom.caching.middleware import TRACKING_PARAMETER_PREFIXES, TRACKING_PARAMETERS
from newsroom.caching.personal import personal_cookie_names

from .factories import make_article, make_comment, make_user
from .frontcache import (
    free_port,
    personal_cookies_in_vcl,
    request,
    requires_varnish,
    tracking_parameters_in_vcl,
    varnish,
)
from .test_cache_oracle import Newsroom, normalised, settings_for_the_oracle

pytestmark = [pytest.mark.django_db(transaction=True), requires_varnish]


class OneAtATimeServer(WSGIServer):
    """Django's development server answering one request at a time."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


class OneAtATimeLiveServer(LiveServerThread):
    """A live server that answers one request at a time: on SQLite the test database is one
    in-memory connection shared with the server's thread, which must never be used by two
    requests at once (the threaded live server deadlocked under Varnish's requests)."""

    server_class = OneAtATimeServer


@pytest.fixture
def app_server(transactional_db):
    """The app on a free loopback port, in this process (it sees the test's rows)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connections

    shared = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in shared.values():
        conn.inc_thread_sharing()
    server = OneAtATimeLiveServer("127.0.0.1", StaticFilesHandler, connections_override=shared)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield server.port
    server.terminate()
    for conn in shared.values():
        conn.dec_thread_sharing()


@pytest.fixture
def edge(app_server, settings, tmp_path):
    """Varnish in front of the app; the app purges it (NEWSROOM_FRONT_CACHE). Its health
    probe waits an hour: no request of its own reaches the app during a test, so the test
    and the app never use the shared test database at the same moment."""
    port = free_port()
    settings.FRONT_CACHE = f"varnish://127.0.0.1:{port}"
    settings.PAGE_CACHE_SECONDS = 600
    with varnish(app_server, tmp_path, port=port, probe_interval="3600s") as front:
        yield front


def get(front, path, **headers):
    return request(front.url, "GET", path, headers=headers)


def test_the_vcl_passes_exactly_the_apps_personal_cookies():
    """The VCL's list and the app's one definition name the same cookies (both prefixes)."""
    assert personal_cookie_names() <= personal_cookies_in_vcl()


def test_the_vcl_drops_exactly_the_apps_tracking_parameters():
    assert tracking_parameters_in_vcl() == (
        set(TRACKING_PARAMETER_PREFIXES),
        set(TRACKING_PARAMETERS),
    )


def test_every_click_on_a_shared_link_gets_the_page_kept_at_the_edge(edge):
    story = make_article(title="Shared on every network")
    url = story.get_absolute_url()
    assert get(edge, f"{url}?fbclid=IwAR0first&utm_source=facebook")[1]["X-Cache"] == "MISS"
    for query in ("fbclid=IwAR0second&utm_source=facebook", "gclid=Cj0KCQ", "utm_medium=email"):
        status, headers, _ = get(edge, f"{url}?{query}")
        assert status == 200 and headers["X-Cache"] == "HIT", query
    assert get(edge, url)[1]["X-Cache"] == "HIT"


def test_a_public_page_is_kept_at_the_edge_gzipped_with_its_tags_hidden(edge):
    story = make_article(title="Kept at the edge")
    first = get(edge, story.get_absolute_url(), **{"Accept-Encoding": "gzip"})
    second = get(edge, story.get_absolute_url(), **{"Accept-Encoding": "gzip"})
    assert first[0] == second[0] == 200
    assert second[1]["X-Cache"].startswith("HIT")
    assert second[1]["Content-Encoding"] == "gzip"
    assert b"Kept at the edge" in gzip.decompress(second[2])
    assert second[1].get("xkey") is None
    assert second[1].get("Set-Cookie") is None


def test_approving_a_comment_purges_its_story_at_the_edge_and_nothing_else(edge):
    story_a, story_b = make_article(title="Story A"), make_article(title="Story B")
    comment = make_comment(article=story_a, status=Comment.Status.PENDING, body="Edge words")
    paths = [story_a.get_absolute_url(), story_b.get_absolute_url(), "/"]
    for path in paths:
        get(edge, path)
        assert get(edge, path)[1]["X-Cache"].startswith("HIT"), path
    services.approve(Comment.objects.filter(pk=comment.pk), by=make_user())
    status, headers, body = get(edge, story_a.get_absolute_url())
    assert b"Edge words" in body and headers["X-Cache"].startswith("MISS")
    for path in paths[1:]:
        assert get(edge, path)[1]["X-Cache"].startswith("HIT"), path


def test_a_story_published_later_shows_at_the_edge_at_once(edge):
    get(edge, "/")
    assert b"Hot off the press" not in get(edge, "/")[2]
    make_article(title="Hot off the press")
    assert b"Hot off the press" in get(edge, "/")[2]


def test_a_reader_with_a_pending_comment_is_passed_and_sees_it(edge):
    story = make_article()
    pending = make_comment(article=story, status=Comment.Status.PENDING, body="Only mine")
    from comments import cookies

    cookie = cookies.signing.dumps([pending.pk], salt=f"comments.{cookies.PENDING}", compress=True)
    get(edge, story.get_absolute_url())
    for _ in range(2):
        status, headers, body = get(
            edge, story.get_absolute_url(), Cookie=f"{cookies.PENDING}={cookie}"
        )
        assert b"Only mine" in body
        assert "private" in headers["Cache-Control"] or "no-store" in headers["Cache-Control"]
    assert b"Only mine" not in get(edge, story.get_absolute_url())[2]


def test_a_comment_posts_through_the_edge_without_any_token(edge):
    story = make_article()
    page = get(edge, story.get_absolute_url())[2].decode()
    token_url = re.search(r'data-token-url="([^"]+)"', page).group(1)
    assert get(edge, token_url)[1]["Cache-Control"].count("no-store")
    form = "name=Ada&email=ada%40example.com&body=Through+the+edge&url=&token="
    status, headers, body = request(
        edge.url,
        "POST",
        f"{story.get_absolute_url()}comment/",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Sec-Fetch-Site": "same-origin",
        },
        body=form,
    )
    assert status == 200 and b"again to send it" in body  # no script ran: confirm first


class NewsroomBehindVarnish(Newsroom):
    """The oracle's newsroom, its pages read through Varnish; time is real here (no scheduled
    story goes live during a run), and rows stay (the live server needs them committed)."""

    front = None

    def begin(self):
        pass

    def teardown(self):
        pass

    @invariant()
    def every_layer_serves_what_a_fresh_render_shows(self):
        host = self.front.url.removeprefix("http://")
        for url in self.urls():
            with override_settings(PAGE_CACHE_SECONDS=0):
                fresh = Client(HTTP_HOST=host).get(url)
            status, _headers, body = get(self.front, url)
            assert status == fresh.status_code, url
            assert normalised(body) == normalised(fresh.content), url


def test_every_page_through_varnish_matches_a_fresh_render(edge):
    NewsroomBehindVarnish.front = edge
    NewsroomBehindVarnish.clock = None
    NewsroomBehindVarnish.committed = staticmethod(contextlib.nullcontext)
    run_state_machine_as_test(
        NewsroomBehindVarnish, settings=settings_for_the_oracle(max_examples=3)
    )
