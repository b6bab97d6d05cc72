"""A client (a link checker, a monitor, a CDN) asks with HEAD: the production server answers
with GET's status and headers, no body, and logs no warning about it."""

import http.client
from urllib.parse import urlsplit

import pytest

from .factories import image_bytes
from .servers import environment, gunicorn, manage

PATHS = ["/", "/robots.txt", "/healthz", "/feed/", "/media/heroes/photo.jpg", "/no/such/page/"]


@pytest.fixture(scope="module")
def server(tmp_path_factory, static_root):
    tmp_path = tmp_path_factory.mktemp("head")
    database = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    manage("migrate", "--noinput", "-v0", env=environment(DATABASE_URL=database))
    (tmp_path / "media" / "heroes").mkdir(parents=True)
    (tmp_path / "media" / "heroes" / "photo.jpg").write_bytes(image_bytes("JPEG"))
    # A cache of its own: pages kept here must not reach other tests' servers of this checkout.
    cache = str(tmp_path / "cache")
    env = {"DATABASE_URL": database, "NEWSROOM_CACHE_DIR": cache}
    with gunicorn(tmp_path, static_root, **env) as running:
        yield running


def ask(base, method, path):
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Length"), response.read()
    finally:
        connection.close()


def test_head_answers_like_get_without_a_body_or_a_warning(server):
    """Each kind of response (page, text, JSON, file, 404) answers HEAD with GET's status and
    Content-Length and no body, and gunicorn logs no "body bytes on a no-body response"."""
    base, log = server
    for path in PATHS:
        get_status, get_length, body = ask(base, "GET", path)
        head_status, head_length, head_body = ask(base, "HEAD", path)
        assert head_status == get_status, path
        assert head_body == b"", path
        if get_length is not None and path != "/":  # the home page's nonce may vary its size
            assert head_length == get_length, path
    assert "no-body response" not in log.read_text()
    assert " 500 " not in log.read_text()
