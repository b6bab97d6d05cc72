"""A dependency hangs under the site: PostgreSQL or Redis alive but not answering (stopped with
SIGSTOP, or a firewall dropping packets). Each request gives up within a couple of seconds,
kept pages are still served, and /healthz says 503 at once, so the front cache serves its kept
copies (stale-if-error) instead of waiting for gunicorn to kill the workers."""

import os
import signal
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from newsroom.postgresql.base import RETRY_AFTER_SECONDS

from .servers import (
    HangingProxy,
    environment,
    fetch,
    gunicorn,
    local_postgres_server,
    manage,
    scratch_postgres_database,
    site_on_throwaway_redis,
)
from .test_scale_out import browser, comment_fields, post_form

GUNICORN_TIMEOUT = 30  # tests/servers.py's --timeout: before the fix, what a hang cost
MAKE_STORY = (
    "from tests.factories import make_article;"
    "print(make_article(title='Kept through the hang').get_absolute_url())"
)


def timed_fetch(url):
    started = time.monotonic()
    status, _headers, body = fetch(url, timeout=GUNICORN_TIMEOUT + 10)
    return status, time.monotonic() - started, body


def hammer(base, paths, rounds):
    """Every path `rounds` times from 8 clients at once: [(path, status, seconds)]."""
    jobs = [path for _ in range(rounds) for path in paths]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda path: timed_fetch(base + path), jobs))
    return [
        (path, status, seconds)
        for path, (status, seconds, _body) in zip(jobs, answers, strict=True)
    ]


def report(title, answers, **figures):
    statuses = {}
    for _path, status, _seconds in answers:
        statuses[status] = statuses.get(status, 0) + 1
    slowest = max(seconds for _path, _status, seconds in answers)
    extra = " ".join(f"{name}={value}" for name, value in figures.items())
    print(f"\n[{title}] requests={len(answers)} statuses={statuses} slowest={slowest:.2f}s {extra}")


# --- PostgreSQL hangs ---


@pytest.fixture(scope="module")
def site_on_hanging_postgres(tmp_path_factory, static_root):
    """gunicorn (two workers) on a scratch PostgreSQL database reached through a HangingProxy,
    with one story; yields (base URL, the story's path, the proxy, the database's own URL)."""
    server = local_postgres_server()
    if server is None:
        pytest.skip("needs a PostgreSQL server (DATABASE_URL or 127.0.0.1:5432)")
    tmp_path = tmp_path_factory.mktemp("pghang")
    where = urllib.parse.urlsplit(server)
    with scratch_postgres_database(f"newsroom_hang_{os.getpid()}", server) as url:
        direct = environment(DATABASE_URL=url)
        manage("migrate", "--noinput", "-v0", env=direct)
        story = manage("shell", "-v0", "-c", MAKE_STORY, env=direct).stdout.strip()
        with HangingProxy(where.hostname, where.port or 5432) as proxy:
            through_proxy = url.replace(where.netloc, f"{where.username}@127.0.0.1:{proxy.port}")
            with gunicorn(
                tmp_path,
                static_root,
                workers=2,
                DATABASE_URL=through_proxy,
                NEWSROOM_CACHE_DIR=str(tmp_path / "cache"),
            ) as (base, _log):
                yield base, story, proxy, url
                proxy.resume()


def test_a_hung_database_costs_seconds_and_kept_pages_are_still_served(site_on_hanging_postgres):
    """While PostgreSQL hangs: /healthz says 503 within a couple of seconds (not after
    gunicorn's 30 s), pages that need the database answer the styled 503 as fast, kept pages
    are served as before; once it answers again, so does the site."""
    base, story, proxy, database = site_on_hanging_postgres
    kept = ["/", story]
    for path in kept * 2:  # built, then served from the store
        assert fetch(base + path)[0] == 200, path
    assert fetch(base + "/healthz")[0] == 200
    reader, _jar = browser()
    page = fetch(base + story, opener=reader)[2]
    comment = comment_fields(base, page, "Typed while the database hung")

    proxy.hang()
    status, first_503, body = timed_fetch(base + "/healthz")
    assert status == 503 and '"database": "down"' in body
    assert first_503 < GUNICORN_TIMEOUT / 3

    answers = hammer(base, [*kept, "/healthz", "/search/?q=hang", "/section/news/"], rounds=8)
    report("postgres hung", answers, first_503=f"{first_503:.2f}s")
    for path, status, seconds in answers:
        assert status == (200 if path in kept else 503), (path, status)
        assert seconds < GUNICORN_TIMEOUT / 3, (path, seconds)
    started = time.monotonic()
    status, _headers, body = post_form(reader, f"{base}{story}comment/", page, **comment)
    assert status == 503 and "<strong>not saved</strong>" in body
    assert time.monotonic() - started < GUNICORN_TIMEOUT / 3

    proxy.resume()
    resumed = time.monotonic()
    deadline = resumed + 20
    while fetch(base + "/healthz")[0] != 200:
        assert time.monotonic() < deadline, "the site did not come back with the database"
        time.sleep(0.5)
    # Each worker asks the database again RETRY_AFTER_SECONDS after its last failure at most.
    time.sleep(max(0.0, resumed + RETRY_AFTER_SECONDS + 0.5 - time.monotonic()))
    assert fetch(base + "/search/?q=hang")[0] == 200
    assert "Kept through the hang" in fetch(base + story)[2]
    # Sent again, the comment told "not saved" is stored, once: nothing lost, nothing doubled.
    status, _headers, body = post_form(reader, f"{base}{story}comment/", page, **comment)
    assert status == 200 and "Typed while the database hung" in body  # the 303 followed
    with psycopg.connect(database) as db:
        stored = db.execute("SELECT body FROM comments_comment").fetchall()
    assert stored == [("Typed while the database hung",)]


# --- Redis hangs ---


@pytest.fixture(scope="module")
def site_on_hanging_redis(tmp_path_factory, static_root):
    """gunicorn (two workers) on SQLite with its cache in a throwaway redis-server, which the
    test stops with SIGSTOP; yields (base URL, the story's path, the redis-server process)."""
    tmp_path = tmp_path_factory.mktemp("redishang")
    with site_on_throwaway_redis(tmp_path, static_root) as (base, env, server):
        story = manage("shell", "-v0", "-c", MAKE_STORY, env=environment(**env)).stdout.strip()
        yield base, story, server


def test_a_hung_redis_costs_a_fraction_of_a_second_and_pages_still_answer(site_on_hanging_redis):
    """While Redis hangs every page is still served (built again from the database), the health
    check says the site is up, and no request waits on Redis for more than a moment."""
    base, story, server = site_on_hanging_redis
    paths = ["/", story, "/healthz", "/search/?q=hang"]
    for path in paths * 2:
        assert fetch(base + path)[0] == 200, path

    server.send_signal(signal.SIGSTOP)
    answers = hammer(base, paths, rounds=10)
    report("redis hung", answers)
    for path, status, seconds in answers:
        assert status == 200, (path, status)
        assert seconds < GUNICORN_TIMEOUT / 3, (path, seconds)

    server.send_signal(signal.SIGCONT)
    assert "Kept through the hang" in fetch(base + story)[2]
