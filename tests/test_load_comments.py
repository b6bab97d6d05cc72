"""Many readers comment at once on a real server: every comment the site accepts is stored
exactly once, every refusal is a clear answer, and none is lost, on PostgreSQL and on SQLite.

20 readers, each from its own loopback address and with its own cookies, load the story, take
the three seconds a person needs to type, then post 30 comments as fast as the server answers,
to a gunicorn with 4 workers. The rate limit is real (25 comments per client per 10 minutes,
counted in the database and so shared by the workers): each reader's last 5 comments must get a
429.
"""

import http.client
import http.cookiejar
import json
import os
import re
import secrets
import sqlite3
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field

import psycopg
import pytest

from comments.moderation import policy

from .servers import (
    environment,
    fetch,
    gunicorn,
    manage,
    postgres_url,
    redis_url,
    scratch_postgres_database,
)

CLIENTS = 20
COMMENTS_PER_CLIENT = 30
RATE_LIMIT = 25  # per client in RATE_WINDOW seconds: 20 x 25 = 500 accepted, 100 refused
RATE_WINDOW = 600
WORKERS = 4
REQUEST_TIMEOUT = 30
TEST_SECONDS = 110
SQLITE_RETRIES = 5  # SQLite may ask a writer to try again (503); never more often than this
STORY_SLUG = f"load-test-story-{os.getpid()}"
STORY = f"/stories/{STORY_SLUG}/"


@pytest.fixture
def database_url(tmp_path):
    """A database of its own for the server, on the engine the suite runs on, with one story."""
    if postgres_url():
        with scratch_postgres_database(f"test_load_{os.getpid()}") as url:
            yield prepare(url)
    else:
        yield prepare(f"sqlite:///{tmp_path / 'load.sqlite3'}")


def prepare(url):
    env = environment(DATABASE_URL=url)
    manage("migrate", "--noinput", "-v0", env=env)
    seed = f"from tests.factories import make_article; make_article(slug={STORY_SLUG!r})"
    manage("shell", "-v0", "-c", seed, env=env)
    return url


def stored_bodies(url):
    """Every comment body in the server's database, with how often it is there."""
    query = "SELECT body FROM comments_comment"
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            rows = connection.execute(query).fetchall()
    else:
        with psycopg.connect(url) as connection:
            rows = connection.execute(query).fetchall()
    return Counter(body for (body,) in rows)


# --- One reader ---


class FromAddress(urllib.request.HTTPHandler):
    """Connects from one loopback address, so the server sees each reader as its own client."""

    def __init__(self, address):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(http.client.HTTPConnection, req, source_address=(self.address, 0))


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """The 303 after a post is the answer under test, not a page to load."""

    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Reader:
    number: int
    base: str
    sqlite: bool
    accepted: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    retries: int = 0
    problems: list = field(default_factory=list)

    def run(self, deadline):
        opener = urllib.request.build_opener(
            FromAddress(f"127.0.0.{10 + self.number}"),
            NoRedirects,
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        )
        try:
            status, _headers, page = fetch(
                self.base + STORY, opener=opener, timeout=REQUEST_TIMEOUT
            )
            assert status == 200, f"story answered {status}"
            # As the form's script does when the reader starts typing.
            token_url = re.search(r'data-token-url="([^"]+)"', page).group(1)
            status, _headers, answer = fetch(
                self.base + token_url, opener=opener, timeout=REQUEST_TIMEOUT
            )
            assert status == 200, f"token answered {status}"
            form = {"token": json.loads(answer)["token"]}
            time.sleep(policy("MIN_SECONDS_TO_TYPE") + 0.2)  # the site's real typing check
            for n in range(COMMENTS_PER_CLIENT):
                assert time.monotonic() < deadline, "out of time"
                self.post(opener, form, f"Reader {self.number}, comment {n}: go on, go faster!")
        except Exception as error:  # noqa: BLE001 - every failure is reported by the test
            self.problems.append(f"reader {self.number}: {error!r}")

    def post(self, opener, form, body):
        fields = {"name": f"Reader {self.number}", "email": f"r{self.number}@example.com"}
        data = urllib.parse.urlencode({**form, **fields, "body": body, "url": ""}).encode()
        for _attempt in range(1 + (SQLITE_RETRIES if self.sqlite else 0)):
            status, headers, page = fetch(
                self.base + STORY + "comment/", data=data, opener=opener, timeout=REQUEST_TIMEOUT
            )
            if status == 303:
                assert headers["Location"].startswith(STORY), headers["Location"]
                self.accepted.append(body)
                return
            if status == 429:
                assert int(headers["Retry-After"]) > 0
                assert "You are commenting faster than we allow" in page, page[:300]
                self.refused.append(body)
                return
            if not (self.sqlite and status == 503 and "not saved" in page):
                raise AssertionError(f"{status} for {body!r}: {what_it_says(page)}")
            self.retries += 1
            time.sleep(0.5)
        raise AssertionError(f"still 503 after {SQLITE_RETRIES} tries: {body!r}")


def hidden(page, name):
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def what_it_says(page):
    """The form's error messages, or the page's title: enough to tell why a post failed."""
    errors = re.findall(r"<li>(?:<a [^>]*>)?([^<]+)", page.partition('class="error-summary"')[2])
    return errors[:3] or re.findall(r"<title>([^<]*)", page)[:1] or page[:200]


# --- The run ---


@pytest.mark.load
def test_concurrent_readers_lose_no_comment(database_url, static_root, tmp_path):
    """20 readers post 600 comments at once: 500 accepted (303) and stored exactly once, 100
    refused with a clear 429 and not stored, no 500, no dropped connection, no lost comment."""
    cache_url = redis_url(13)  # a Redis database of its own, for the shared cache
    if not cache_url:
        pytest.skip("Needs Redis (REDIS_URL or 127.0.0.1:6379): workers share the cache.")
    sqlite = database_url.startswith("sqlite")
    started = time.monotonic()
    with gunicorn(
        tmp_path,
        static_root,
        workers=WORKERS,
        DATABASE_URL=database_url,
        REDIS_URL=cache_url,
        # Our own key, so rate-limit counts from any earlier run (same addresses) do not apply.
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        NEWSROOM_COMMENT_RATE_LIMITS=f"{RATE_LIMIT}/{RATE_WINDOW}",
    ) as (base, log):
        readers = [Reader(number, base, sqlite) for number in range(CLIENTS)]
        deadline = started + TEST_SECONDS
        threads = [threading.Thread(target=r.run, args=(deadline,), daemon=True) for r in readers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1, deadline + REQUEST_TIMEOUT - time.monotonic()))
        assert not any(thread.is_alive() for thread in threads), "readers still running"
    seconds = time.monotonic() - started

    problems = [problem for reader in readers for problem in reader.problems]
    accepted = [body for reader in readers for body in reader.accepted]
    refused = [body for reader in readers for body in reader.refused]
    retries = sum(reader.retries for reader in readers)
    print(
        f"\n{'SQLite' if sqlite else 'PostgreSQL'}: {len(accepted) + len(refused)} comments "
        f"sent by {CLIENTS} readers, {len(accepted)} accepted, {len(refused)} refused (429), "
        f"{retries} retried after a 503, {seconds:.1f} s"
    )
    assert not problems, problems[:5]
    assert len(accepted) + len(refused) == CLIENTS * COMMENTS_PER_CLIENT
    for reader in readers:
        # Exactly the limit, unless a 503 retry had already been counted against it.
        assert len(reader.accepted) <= RATE_LIMIT, reader.number
        assert len(reader.refused) >= COMMENTS_PER_CLIENT - RATE_LIMIT, reader.number
    assert stored_bodies(database_url) == Counter(accepted)

    # The server's access log tells the same story, with no other status.
    statuses = Counter(re.findall(r'"(?:GET|POST) [^"]*" (\d{3}) ', log.read_text()))
    # 200s: each reader's story page and the form token its script fetches.
    assert statuses == {"200": 2 * CLIENTS, "303": len(accepted), "429": len(refused)} | (
        {"503": retries} if retries else {}
    )
    assert "Traceback" not in log.read_text() and "WORKER TIMEOUT" not in log.read_text()
    assert seconds < 120


def test_rate_limits_come_from_the_environment():
    """NEWSROOM_COMMENT_RATE_LIMITS ("count/seconds" pairs) sets the limits the run relies on."""
    show = "from django.conf import settings; print(settings.COMMENTS['RATE_LIMITS'])"
    custom = environment(NEWSROOM_COMMENT_RATE_LIMITS="3/60, 10/3600")
    assert manage("shell", "-v0", "-c", show, env=custom).stdout.strip() == "[(3, 60), (10, 3600)]"
    assert manage("shell", "-v0", "-c", show, env=environment()).stdout.strip() == (
        "[(1, 15), (20, 3600)]"
    )
