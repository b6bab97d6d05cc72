"""Things break under the site: the database or Redis goes away, writers collide on SQLite,
someone writes junk into a log line. Readers get a clear answer, never a traceback."""

import http.cookiejar
import io
import logging
import re
import textwrap
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager

import pytest
from django.core.cache import caches

from newsroom.logging import SafeLogFilter

from .factories import comment_form_data, make_article, make_user
from .servers import environment, fetch, free_port, gunicorn, manage

# --- The database goes away ---


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory, static_root):
    tmp_path = tmp_path_factory.mktemp("nodb")
    closed = free_port()
    with gunicorn(
        tmp_path, static_root, DATABASE_URL=f"postgres://newsroom@127.0.0.1:{closed}/newsroom"
    ) as server:
        yield server


def test_health_check_says_503_when_the_database_is_down(server_without_database):
    """/healthz answers 503 with a short JSON body when it cannot reach the database."""
    base, _log = server_without_database
    status, headers, body = fetch(f"{base}/healthz")
    assert status == 503
    assert headers["Content-Type"] == "application/json"
    assert '"database": "down"' in body


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/stories/any-story/",
        "/section/news/",
        "/search/?q=gold",
        "/feed/",
        "/?p=12",  # an old WordPress link, looked up before the page
    ],
)
def test_pages_answer_the_styled_503_when_the_database_is_down(server_without_database, path):
    """Reader pages answer the site's own 503 page: no traceback, a retry hint."""
    base, log = server_without_database
    status, headers, body = fetch(base + path)
    assert status == 503, body
    assert headers["Retry-After"] == "30"
    assert "briefly unavailable" in body and "try again in a minute" in body
    assert "<!DOCTYPE html>" in body and "not saved" not in body
    assert "Traceback" not in body and "psycopg" not in body.lower()
    assert "Traceback" not in log.read_text()


def test_an_old_address_is_still_a_404_when_the_database_is_down(server_without_database):
    """An old permalink is looked up only after the 404: without a database, that 404 stands."""
    base, log = server_without_database
    status, _headers, body = fetch(f"{base}/2013/01/11/an-old-permalink/")
    assert status == 404 and "Page not found" in body
    assert "Traceback" not in log.read_text()


def test_a_posted_comment_gets_try_again_when_the_database_is_down(server_without_database):
    """A reader who loaded the form before the outage posts it: the answer says try again."""
    base, _log = server_without_database
    token = "a" * 32  # a CSRF secret the reader's browser holds from before the outage
    form = {"name": "Ann", "email": "ann@example.com", "body": "Hi", "csrfmiddlewaretoken": token}
    status, _headers, body = fetch(
        f"{base}/stories/any-story/comment/",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Cookie": f"csrftoken={token}"},
    )
    assert status == 503, body
    assert "<strong>not saved</strong>" in body and "send it again in a minute" in body
    assert "ann@example.com" not in body


@pytest.mark.django_db
def test_a_comment_answered_not_saved_is_really_not_saved(client, monkeypatch):
    """When the database fails after the comment's row is written (finding its page for the
    redirect), the 503 that says "not saved" is true: the row is rolled back, so sending it
    again posts it once instead of being refused as a duplicate."""
    from django.db import OperationalError

    from comments.models import Comment

    article = make_article()

    def locked(comment, *args):  # a method: `comment` is self
        raise OperationalError("database is locked")

    monkeypatch.setattr("comments.models.Comment.thread_page", locked)
    response = client.post(f"{article.get_absolute_url()}comment/", comment_form_data(article))
    assert response.status_code == 503
    assert "not saved" in response.content.decode()
    assert not Comment.objects.exists()

    monkeypatch.undo()
    # (From another address: the failed try counted against this one's rate limit.)
    response = client.post(
        f"{article.get_absolute_url()}comment/",
        comment_form_data(article),
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 303
    assert Comment.objects.count() == 1


# --- Redis goes away ---


@pytest.fixture(scope="module")
def server_without_redis(tmp_path_factory, static_root):
    tmp_path = tmp_path_factory.mktemp("noredis")
    database = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    env = {"DATABASE_URL": database, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    manage("migrate", "--noinput", "-v0", env=environment(**env))
    create_user = (
        "from django.contrib.auth import get_user_model;"
        "get_user_model().objects.create_superuser('owner', 'owner@example.com', 'pw-9f8e7d6c5b')"
    )
    manage("shell", "-v0", "-c", create_user, env=environment(**env))
    with gunicorn(tmp_path, static_root, **env) as server:
        yield server


def test_site_keeps_serving_when_redis_is_down(server_without_redis):
    """With REDIS_URL pointing at nothing, pages and the health check still answer 200."""
    base, log = server_without_redis
    for path in ["/", "/healthz", "/search/?q=gold", "/feed/", "/admin/login/"]:
        started = time.monotonic()
        status, _headers, body = fetch(base + path)
        assert status == 200, (path, body)
        assert time.monotonic() - started < 3, path
    assert "Cache unavailable" in log.read_text()


def test_admin_login_works_when_redis_is_down(server_without_redis):
    """Sessions fall back to the database: an editor can still sign in and stay signed in."""
    base, _log = server_without_redis
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    _status, _headers, page = fetch(f"{base}/admin/login/", opener=opener)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"username": "owner", "password": "pw-9f8e7d6c5b", "csrfmiddlewaretoken": token}
    status, _headers, body = fetch(
        f"{base}/admin/login/?next=/admin/",
        data=urllib.parse.urlencode(form).encode(),
        opener=opener,
        headers={"Referer": f"{base}/admin/login/"},
    )
    assert status == 200 and "Site administration" in body, body[:500]


@pytest.mark.django_db
def test_tolerant_cache_acts_as_a_miss_and_stops_asking_a_dead_redis(settings, client):
    """Each cache call on a dead Redis is a quick miss; pages render without the cache."""
    settings.CACHES = {
        "default": {
            "BACKEND": "newsroom.cache.TolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    cache = caches["default"]
    assert cache.get("missing", "fallback") == "fallback"
    cache.set("key", "value")
    assert cache.add("key", "value") is False
    assert cache.get_or_set("computed", lambda: 42) == 42
    assert cache.get_many(["a", "b"]) == {}
    assert cache.delete("key") is False
    with pytest.raises(ValueError):
        cache.incr("counter")
    started = time.monotonic()
    for _ in range(200):
        cache.get("anything")
    assert time.monotonic() - started < 0.5  # the circuit is open: Redis is not asked again
    make_article(title="Served without a cache")
    assert "Served without a cache" in client.get("/").content.decode()


def test_redis_url_selects_the_tolerant_cache():
    """When REDIS_URL is set, settings use the tolerant cache and cached database sessions."""
    code = (
        "from django.conf import settings as s;"
        "print(s.CACHES['default']['BACKEND'], s.SESSION_ENGINE)"
    )
    result = manage(
        "shell", "-v0", "-c", code, env=environment(REDIS_URL="redis://127.0.0.1:6379/3")
    )
    assert result.stdout.split() == [
        "newsroom.cache.TolerantRedisCache",
        "django.contrib.sessions.backends.cached_db",
    ]


# --- SQLite writers queue instead of failing ---

CONCURRENT_WRITERS = textwrap.dedent(
    """
    import threading
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        print("journal", cursor.fetchone()[0])
        cursor.execute("CREATE TABLE tally (id INTEGER PRIMARY KEY, writer INTEGER, n INTEGER)")
    connection.close()
    errors = []

    def write(writer):
        try:
            for n in range(40):
                # Read, then write, in one transaction: the pattern that deadlocks with
                # SQLite's default deferred transactions ("database is locked").
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT COUNT(*) FROM tally WHERE writer = %s", [writer])
                        seen = cursor.fetchone()[0]
                        cursor.execute(
                            "INSERT INTO tally (writer, n) VALUES (%s, %s)", [writer, seen]
                        )
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COUNT(DISTINCT writer || '-' || n) FROM tally")
        print("rows", *cursor.fetchone())
    print("errors", len(errors), *errors[:3])
    """
)


def test_concurrent_sqlite_writers_queue_instead_of_failing(tmp_path):
    """Eight threads each doing 40 read-then-write transactions on SQLite: no lock errors."""
    env = environment(DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'busy.sqlite3'}")
    output = manage("shell", "-v0", "-c", CONCURRENT_WRITERS, env=env).stdout
    assert "journal wal" in output
    assert "errors 0" in output, output
    assert "rows 320 320" in output


# --- Logs cannot be forged and hold no personal data ---


@contextmanager
def site_log():
    """What the site's configured console handler writes, captured from the real handler."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    assert any(isinstance(f, SafeLogFilter) for f in handler.filters)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


@pytest.mark.django_db
def test_failed_login_log_holds_no_username_or_address(client):
    """Axes logs a failed admin login without the username typed or the client address."""
    with site_log() as log:
        client.post(
            "/admin/login/",
            {"username": "victim@example.com", "password": "wrong"},
            REMOTE_ADDR="203.0.113.77",
        )
    text = log.getvalue()
    assert "login failure" in text.lower()
    assert "victim@example.com" not in text and "203.0.113.77" not in text


def test_server_log_has_no_client_address_and_no_forged_lines(server_without_redis):
    """gunicorn's access and error logs: one line per event, no client IP, no email, no
    terminal control, whatever the path, query or User-Agent holds."""
    base, log = server_without_redis
    fetch(f"{base}/x%0d%0aINFO%20forged%1b%5b2J?email=ann@example.com&c=%9b31m")
    fetch(f"{base}/", headers={"User-Agent": "Mozilla \x9b31m red \x1b]0;owned\x07"})
    fetch(f"{base}/", headers={"User-Agent": "bot ann@example.com"})
    fetch(f"{base}/?subscribe=ann%40example.com")
    time.sleep(0.3)  # the access log line is written after the response
    text = log.read_text()
    assert text.count('"GET /x%0d%0aINFO%20forged') == 1
    assert "127.0.0.1" not in text
    assert "ann@example.com" not in text
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", text)
    assert all(re.match(r"\[|(INFO|WARNING|ERROR) ", line) for line in text.splitlines()), text


def test_log_records_are_one_line_and_tracebacks_stay_indented():
    """Every record is one line; a traceback's own lines are indented so none can pass for a
    record, and emails and IP addresses in the message or the traceback are masked."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(SafeLogFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("tests.faults.forgery")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("Path %s from %s", "/a\nERROR forged", "2001:db8::7")
        try:
            raise ValueError("bad\nCRITICAL forged from ann@example.com at 198.51.100.9")
        except ValueError:
            logger.exception("Failed for %s", "ann@example.com")
    finally:
        logger.removeHandler(handler)
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "WARNING tests.faults.forgery Path /a\\x0aERROR forged from [ip]"
    assert lines[1] == "ERROR tests.faults.forgery Failed for [email]"
    assert all(line.startswith("  ") for line in lines[2:])
    assert "  CRITICAL forged from [email] at [ip]" in lines
    assert "ann@example.com" not in buffer.getvalue()


def test_every_configured_handler_scrubs_its_records(settings):
    """No log handler in the settings writes a record without the safe filter."""
    for name, handler in settings.LOGGING["handlers"].items():
        assert "safe" in handler.get("filters", []), name


@pytest.mark.django_db
def test_disallowed_host_log_line_holds_no_email(client):
    """A forged Host header is logged by Django's security logger, without the junk in it."""
    make_user()
    with site_log() as log:
        response = client.get("/", headers={"host": "ann@example.com"})
    assert response.status_code == 400
    assert "Invalid HTTP_HOST" in log.getvalue()
    assert "ann@example.com" not in log.getvalue()


# --- Redis hangs with the kept pages still in it ---


@pytest.mark.django_db
def test_a_purge_missed_while_redis_hung_is_not_lost(
    hanging_redis, django_capture_on_commit_callbacks
):
    """An editor's change while Redis hangs (its kept pages still in it) cannot be recorded;
    once Redis answers again, no page kept before the change is served."""
    import signal

    from django.test import Client

    with django_capture_on_commit_callbacks(execute=True):
        story = make_article(title="Before the hang")
    url = story.get_absolute_url()
    assert "Before the hang" in Client().get(url).content.decode()
    assert "Before the hang" in Client().get("/").content.decode()
    hanging_redis.send_signal(signal.SIGSTOP)
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "After the hang"
        story.save()
    assert "After the hang" in Client().get(url).content.decode()  # served without the cache
    hanging_redis.send_signal(signal.SIGCONT)
    time.sleep(0.3)  # the tolerant client asks Redis again
    for page in (url, "/"):
        html = Client().get(page).content.decode()
        assert "After the hang" in html and "Before the hang" not in html, page


def test_nothing_is_kept_while_the_database_cannot_say_what_goes_live_next(client, settings, db):
    """A page served from kept fragments while the database cannot answer (the next go-live is
    read after the view) is served, not a 500, and kept by no cache: what cannot be checked is
    not kept."""
    from django.db import connection, transaction

    from newsroom.caching import store

    settings.PAGE_CACHE_SECONDS = 600

    def unanswerable():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT moment FROM no_such_table")  # a real database error

    store.register_expiry(unanswerable)
    try:
        assert store.keep_seconds(3600) == 0
        response = client.get("/")
    finally:
        store._expiry_sources.remove(unanswerable)  # noqa: SLF001
    assert response.status_code == 200
    assert "s-maxage=0" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]
