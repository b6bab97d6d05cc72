"""deploy/varnish/newsroom.vcl in a real varnishd, in front of a stub backend that counts what
reaches it: public pages are kept and purged by tag, everything personal passes, kept pages are
served stale while the app is down. No database: these tests never touch Django."""

import gzip
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .frontcache import (
    TRACKING_CASES,
    VCL_PATH,
    personal_cookies_in_vcl,
    request,
    requires_varnish,
    varnish,
)

pytestmark = requires_varnish

PUBLIC = "public, max-age=60, s-maxage=300, stale-while-revalidate=30, stale-if-error=86400"
# Kept one second, then served stale only while the app is down or failing.
SHORT = "public, max-age=1, s-maxage=1, stale-while-revalidate=0, stale-if-error=86400"
PERSONAL_COOKIES = {
    "sessionid",
    "__Host-sessionid",
    "comments_pending",
    "__Host-comments_pending",
    "comment_author",
    "__Host-comment_author",
    "messages",
}


class StubBackend:
    """The app, as far as the front cache sees it: each path answers what `route()` set for it
    (with its query string, or else without; by default a public page); every request but
    /healthz is counted and its headers kept."""

    def __init__(self):
        self.routes = {}
        self.healthy = True  # what /healthz says (False: 503, as when the database is down)
        self.hits = Counter()
        self.seen = {}  # path -> headers of the last request that reached the backend
        self.lock = threading.Lock()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self):
                path = self.path
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if path == "/healthz":
                    status = 200 if backend.healthy else 503
                    headers, body = {"Cache-Control": "no-cache"}, b"ok"
                else:
                    with backend.lock:
                        backend.hits[path] += 1
                        backend.seen[path] = self.headers
                        count = backend.hits[path]
                        default = backend.routes.get(path.split("?")[0], (200, {}, None))
                        status, headers, body = backend.routes.get(path, default)
                    headers = {"Content-Type": "text/html; charset=utf-8"} | headers
                    headers.setdefault("Cache-Control", PUBLIC)
                    if body is None:
                        body = f"<!doctype html><p>{path} version {count}</p>".encode()
                self.send_response(status)
                for name, value in headers.items():
                    if value is not None:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                # One request per connection: a stopped backend really is unreachable.
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                self.close_connection = True

            do_GET = do_HEAD = do_POST = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def hits_under(self, path):
        """{path with query: requests} of the requests for `path`, whatever their query."""
        with self.lock:
            return Counter({hit: n for hit, n in self.hits.items() if hit.split("?")[0] == path})

    def route(self, path, status=200, body=None, **headers):
        """What `path` answers; header names with underscores for dashes (None: omitted)."""
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        with self.lock:
            self.routes[path] = (status, headers, body)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def backend():
    stub = StubBackend()
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def front(backend, tmp_path_factory):
    with varnish(backend.port, tmp_path_factory.mktemp("varnish")) as cache:
        yield cache


@pytest.fixture
def get(front):
    def get(path, **headers):
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        return request(front.url, "GET", path, headers=headers)

    return get


def test_a_public_page_is_kept(backend, get):
    backend.route("/kept/", xkey="article-1 section-1 nav")
    status, first, body = get("/kept/")
    assert status == 200 and first["X-Cache"] == "MISS"
    status, second, again = get("/kept/")
    assert status == 200 and second["X-Cache"] == "HIT"
    assert again == body and b"version 1" in body
    assert backend.hits["/kept/"] == 1


def test_the_tags_are_not_sent_to_clients(backend, get, front):
    backend.route("/tagged/", xkey="article-2 nav")
    for _ in range(2):
        _, headers, _ = get("/tagged/")
        assert "xkey" not in headers
    _, headers, _ = request(front.url, "HEAD", "/tagged/")
    assert "xkey" not in headers


def test_a_tag_purge_evicts_exactly_the_pages_with_that_tag(backend, get, front):
    backend.route("/p/a/", xkey="article-10 section-10 nav")
    backend.route("/p/b/", xkey="article-11 section-10 nav")
    backend.route("/p/c/", xkey="article-12 section-11 nav")
    pages = ["/p/a/", "/p/b/", "/p/c/"]
    for page in pages:
        get(page)

    assert front.purge("article-10") == 1
    assert [get(page)[1]["X-Cache"] for page in pages] == ["MISS", "HIT", "HIT"]
    assert [backend.hits[page] for page in pages] == [2, 1, 1]

    # Several tags at once, any of them: both pages of section 10 and whatever has article-12.
    # Not counted here: xkey's count also takes in a copy purged before but not yet dropped by
    # Varnish's expiry thread (the first /p/a/), so counts are checked on fresh pages below.
    front.purge("section-10", "article-12", "no-such-tag")
    assert [get(page)[1]["X-Cache"] for page in pages] == ["MISS", "MISS", "MISS"]
    assert [backend.hits[page] for page in pages] == [3, 2, 2]

    assert front.purge("no-such-tag") == 0
    assert [get(page)[1]["X-Cache"] for page in pages] == ["HIT", "HIT", "HIT"]


def test_a_purge_of_several_tags_counts_what_each_tag_dropped(backend, get, front):
    backend.route("/q/a/", xkey="article-20 section-20 nav")
    backend.route("/q/b/", xkey="article-21 section-20 nav")
    backend.route("/q/c/", xkey="article-22 section-21 nav")
    backend.route("/q/d/", xkey="article-23 section-21 nav")
    pages = ["/q/a/", "/q/b/", "/q/c/", "/q/d/"]
    for page in pages:
        get(page)
    # xkey counts tag by tag: two pages for section-20, one for article-22, none for the last.
    assert front.purge("section-20", "article-22", "no-such-tag") == 3
    assert [get(page)[1]["X-Cache"] for page in pages] == ["MISS", "MISS", "MISS", "HIT"]


def test_the_purge_answer_says_how_many(front, get):
    get("/counted/")  # untagged: not touched by any tag purge
    status, headers, body = request(front.url, "PURGE", "/", headers={"xkey-purge": "nothing"})
    assert status == 200 and headers["X-Purged"] == "0" and body == b"Purged 0 objects\n"


def test_a_purge_without_tags_drops_that_url(backend, get, front):
    get("/one-url/")
    assert get("/one-url/")[1]["X-Cache"] == "HIT"
    assert front.purge_url("/one-url/") == 200
    assert get("/one-url/")[1]["X-Cache"] == "MISS"
    assert backend.hits["/one-url/"] == 2


def test_purging_is_for_this_machine_only(backend, get, front):
    backend.route("/guarded/", xkey="guarded")
    get("/guarded/")
    # Relayed by a local proxy for someone else: refused, nothing purged.
    status, _, _ = request(
        front.url,
        "PURGE",
        "/",
        headers={"xkey-purge": "guarded", "X-Forwarded-For": "203.0.113.7"},
    )
    assert status == 403
    assert get("/guarded/")[1]["X-Cache"] == "HIT"
    assert front.purge("guarded") == 1  # the loopback itself may
    assert get("/guarded/")[1]["X-Cache"] == "MISS"
    acl = VCL_PATH.read_text().split("acl newsroom_purgers {", 1)[1].split("}", 1)[0]
    assert sorted(line.strip() for line in acl.strip().splitlines()) == [
        '"127.0.0.1";',
        '"::1";',
    ]


@pytest.mark.parametrize("sent, seen", TRACKING_CASES)
def test_tracking_parameters_are_left_out_of_the_key(backend, get, sent, seen):
    """The app gets the link as sent (it drops them itself and carries them along redirects);
    the copy is kept under the link without them, which every other click shares."""
    path = f"/tracked/{TRACKING_CASES.index((sent, seen))}/"
    status, headers, _ = get(f"{path}?{sent}")
    assert status == 200 and headers["X-Cache"] == "MISS"
    assert list(backend.hits_under(path)) == [f"{path}?{sent}"]
    again = f"{path}?{seen}&fbclid=another&utm_source=elsewhere" if seen else f"{path}?gclid=2"
    assert get(again)[1]["X-Cache"] == "HIT"
    assert get(f"{path}?{seen}" if seen else path)[1]["X-Cache"] == "HIT"
    assert sum(backend.hits_under(path).values()) == 1


@pytest.mark.parametrize(
    "first, other",
    [
        ("q=who?fbclid=1", "q=who"),  # a "?" in a value: no parameter starts there
        ("next=/stories/x/?utm_source=a", "next=/stories/x/"),
        ("q=a%26fbclid%3D1", "q=a"),  # an encoded "&" joins no parameter
    ],
)
def test_only_whole_parameters_after_the_first_question_mark_are_left_out(
    backend, get, first, other
):
    path = f"/whole/{abs(hash(first)) % 10**8}/"
    get(f"{path}?{first}")
    assert get(f"{path}?{other}")[1]["X-Cache"] == "MISS"


def test_a_path_is_never_touched(backend, get):
    get("/media/a&fbclid=1/b.jpg")
    assert backend.hits["/media/a&fbclid=1/b.jpg"] == 1
    assert get("/media/a/b.jpg")[1]["X-Cache"] == "MISS"


def test_a_kept_redirect_asked_for_with_tracking_goes_to_the_app(backend, get):
    """So that the app can take the campaign along to the page it leads to."""
    backend.route("/old/", status=301, Location="/new/")
    assert get("/old/")[1]["X-Cache"] == "MISS"
    assert get("/old/")[1]["X-Cache"] == "HIT"
    status, headers, _ = get("/old/?utm_campaign=newsletter")
    assert status == 301 and headers["X-Cache"] == "MISS"
    assert backend.hits["/old/?utm_campaign=newsletter"] == 1
    assert get("/old/")[1]["X-Cache"] == "HIT"


def test_a_client_cannot_choose_the_key(backend, get, front):
    """A key sent by a client (or a purger) is dropped: it would serve or purge another page."""
    get("/keyed/")
    status, headers, body = get("/other-key/", X_Newsroom_Key="/keyed/")
    assert headers["X-Cache"] == "MISS" and b"/other-key/" in body
    status, _, _ = request(front.url, "PURGE", "/unkept/", headers={"X-Newsroom-Key": "/keyed/"})
    assert status == 200
    assert get("/keyed/")[1]["X-Cache"] == "HIT"


def test_the_admin_keeps_its_query_string(backend, get):
    get("/admin/articles/?utm_source=x&fbclid=y")
    assert get("/admin/articles/?utm_source=x&fbclid=z")[1]["X-Cache"] != "HIT"
    assert backend.hits["/admin/articles/?utm_source=x&fbclid=y"] == 1


def test_the_personal_cookie_list_is_the_contracts():
    assert personal_cookies_in_vcl() == PERSONAL_COOKIES


@pytest.mark.parametrize("cookie", sorted(PERSONAL_COOKIES))
def test_personal_cookies_pass_with_their_cookies(backend, get, cookie):
    path = f"/personal/{cookie}/"
    sent = f"csrftoken=abc; {cookie}=value; _ga=1"
    for _ in range(3):
        status, headers, _ = get(path, Cookie=sent)
        assert status == 200 and headers["X-Cache"] == "MISS"
    assert backend.hits[path] == 3
    assert backend.seen[path]["Cookie"] == sent


def test_a_cookie_that_only_contains_a_personal_name_is_not_personal(backend, get):
    get("/lookalike/", Cookie="xsessionid=1; messages_seen=2")
    assert get("/lookalike/", Cookie="mysessionid=3")[1]["X-Cache"] == "HIT"
    assert backend.hits["/lookalike/"] == 1


def test_other_cookies_are_removed_and_the_page_still_kept(backend, get):
    backend.route("/with-vary/", Vary="Cookie, Accept-Encoding")
    get("/with-vary/", Cookie="csrftoken=one; _ga=GA1.2.3")
    assert "Cookie" not in backend.seen["/with-vary/"]
    _, headers, _ = get("/with-vary/", Cookie="csrftoken=two")
    assert headers["X-Cache"] == "HIT"
    assert get("/with-vary/")[1]["X-Cache"] == "HIT"
    assert backend.hits["/with-vary/"] == 1


def test_post_passes_with_its_cookies(backend, front):
    for _ in range(2):
        status, headers, _ = request(
            front.url, "POST", "/post/", headers={"Cookie": "csrftoken=abc"}, body=b"name=A"
        )
        assert status == 200 and headers["X-Cache"] == "MISS"
    assert backend.hits["/post/"] == 2
    assert backend.seen["/post/"]["Cookie"] == "csrftoken=abc"
    # A POST does not leave anything a GET would be served from.
    assert request(front.url, "GET", "/post/")[1]["X-Cache"] == "MISS"


@pytest.mark.parametrize("path", ["/admin/", "/admin/comments/comment/", "/healthz?x=1"])
def test_admin_and_health_pass(backend, get, path):
    for _ in range(2):
        assert get(path, Cookie="csrftoken=abc")[1]["X-Cache"] == "MISS"
    assert backend.hits[path] == 2
    assert backend.seen[path]["Cookie"] == "csrftoken=abc"  # the admin's CSRF cookie arrives


def test_credentials_pass(backend, get):
    for _ in range(2):
        get("/credentials/", Authorization="Basic dXNlcjpwYXNz")
    assert backend.hits["/credentials/"] == 2


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("set-cookie", {"Set_Cookie": "comments_pending=1; Path=/; HttpOnly"}),
        ("private", {"Cache_Control": "private, max-age=0"}),
        ("no-cache", {"Cache_Control": "no-cache, private"}),
        ("no-store", {"Cache_Control": "no-store"}),
        ("s-maxage-zero", {"Cache_Control": "public, max-age=0, s-maxage=0"}),
        ("unmarked", {"Cache_Control": None}),
    ],
)
def test_responses_not_meant_to_be_kept_are_not(backend, get, name, headers):
    path = f"/not-kept/{name}/"
    backend.route(path, **headers)
    for _ in range(3):
        assert get(path)[1]["X-Cache"] == "MISS"
    assert backend.hits[path] == 3


def test_an_error_without_a_kept_copy_is_the_apps_own(backend, get):
    backend.route("/broken/", status=500, body=b"the app's error page", Cache_Control=None)
    status, _, body = get("/broken/")
    assert (status, body) == (500, b"the app's error page")


def test_text_is_gzipped_for_clients_that_accept_it(backend, get):
    backend.route("/zipped/", body=b"<!doctype html><p>" + b"Leerdam wins gold. " * 200)
    status, headers, body = get("/zipped/", Accept_Encoding="gzip")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"<!doctype html><p>Leerdam")
    assert "Accept-Encoding" in headers["Vary"]
    # The same kept object, unzipped for a client that does not accept gzip.
    status, headers, plain = get("/zipped/")
    assert headers["X-Cache"] == "HIT" and "Content-Encoding" not in headers
    assert plain == gzip.decompress(body)
    assert backend.hits["/zipped/"] == 1


def test_hashed_static_files_are_kept(backend, get):
    path = "/static/css/site.3f2a9c1b.css"
    backend.route(
        path,
        body=b"body{margin:0}" * 50,
        Content_Type="text/css",
        Cache_Control="max-age=315360000, public, immutable",
    )
    get(path, Cookie="csrftoken=abc")
    _, headers, body = get(path, Accept_Encoding="gzip")
    assert headers["X-Cache"] == "HIT" and headers["Content-Encoding"] == "gzip"
    assert backend.hits[path] == 1


def test_a_stale_page_is_served_while_it_is_refreshed(backend, get):
    backend.route("/swr/", Cache_Control=SHORT.replace("revalidate=0", "revalidate=30"))
    get("/swr/")
    time.sleep(1.2)
    _, headers, body = get("/swr/")  # stale: served at once, refreshed in the background
    assert headers["X-Cache"] == "HIT" and b"version 1" in body
    deadline = time.monotonic() + 3
    while b"version 2" not in get("/swr/")[2]:
        assert time.monotonic() < deadline, "the background refresh never arrived"
        time.sleep(0.05)


def test_a_kept_page_is_served_while_the_app_answers_5xx(backend, get):
    backend.route("/sie/", Cache_Control=SHORT)
    assert b"version 1" in get("/sie/")[2]
    time.sleep(1.2)
    # Past its s-maxage and stale-while-revalidate, the app up: a fresh copy.
    assert b"version 2" in get("/sie/")[2]
    time.sleep(1.2)
    backend.route("/sie/", status=503, body=b"database down", Cache_Control=None)
    status, headers, body = get("/sie/")
    assert status == 200 and b"version 2" in body and headers["X-Cache"] == "HIT"
    assert backend.hits["/sie/"] >= 3  # it did ask (and may try again in the background)
    backend.route("/sie/", Cache_Control=SHORT)  # the app is back: fresh again
    status, _, body = get("/sie/")  # (fetched now, or by the background refresh just before)
    assert status == 200 and b"version 2" not in body


def test_a_kept_page_is_served_while_the_app_is_down(tmp_path):
    stub = StubBackend()
    try:
        with varnish(stub.port, tmp_path) as cache:
            stub.route("/down/", Cache_Control=SHORT)
            stub.route("/never-kept/", Cache_Control="no-cache, private")
            assert b"version 1" in request(cache.url, "GET", "/down/")[2]
            assert request(cache.url, "GET", "/never-kept/")[0] == 200
            stub.stop()
            time.sleep(1.2)
            status, headers, body = request(cache.url, "GET", "/down/")
            assert status == 200 and b"version 1" in body and headers["X-Cache"] == "HIT"
            # Nothing kept: a plain 503 page that says a form was not saved (not Varnish's
            # "Guru Meditation", and not a page of someone else's).
            status, headers, body = request(cache.url, "GET", "/never-kept/")
            assert status == 503 and headers["Retry-After"] == "30"
            assert b"it was not\nsaved" in body and b"Guru" not in body
            assert "no-store" in headers["Cache-Control"]
            status, _, body = request(cache.url, "POST", "/never-kept/", body=b"name=a")
            assert status == 503 and b"send it again" in body
            assert request(cache.url, "GET", "/down/")[0] == 200
    finally:
        stub.server.server_close()


def test_while_the_health_probe_fails_kept_pages_are_served_without_asking(tmp_path):
    stub = StubBackend()
    try:
        with varnish(stub.port, tmp_path, probe_interval="0.1s") as cache:
            stub.route("/sick/", Cache_Control=SHORT)
            assert b"version 1" in request(cache.url, "GET", "/sick/")[2]
            # The database goes down: /healthz and pages answer 503.
            stub.healthy = False
            stub.route("/sick/", status=503, body=b"database down", Cache_Control=None)
            time.sleep(1.2)  # past s-maxage; the probe has failed many times
            asked = stub.hits["/sick/"]
            for _ in range(3):
                status, headers, body = request(cache.url, "GET", "/sick/")
                assert status == 200 and b"version 1" in body and headers["X-Cache"] == "HIT"
            assert stub.hits["/sick/"] == asked  # served from the cache alone
            # The database is back: the next probes pass, pages are fresh again.
            stub.healthy = True
            stub.route("/sick/", Cache_Control=SHORT)
            deadline = time.monotonic() + 3
            while b"version 1" in request(cache.url, "GET", "/sick/")[2]:
                assert time.monotonic() < deadline, "never fresh again"
                time.sleep(0.05)
    finally:
        stub.stop()
