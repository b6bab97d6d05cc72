"""A change shows even when the cache lost what the store keeps to tell kept pages from stale
ones (its purge sequence, its epoch: evicted by Redis, culled by the file cache), or was hung
when the change was made; and the site owner can retire every kept page with one command."""

import signal
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from newsroom.caching import store

from .factories import make_article
from .servers import ROOT, environment, fetch, manage, site_on_throwaway_redis

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["redis", "file"])
def shared_cache(request, settings, tmp_path):
    """The default cache as deployed: Redis (a private redis-server) or the file cache."""
    if request.param == "redis":
        yield request.getfixturevalue("hanging_redis")
        return
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
    settings.PAGE_CACHE_SECONDS = 600
    yield None


def text(url):
    return Client().get(url).content.decode()


def a_busy_site(committed):
    """A story whose pages are kept after other changes (the purge sequence is past 1)."""
    with committed():
        for _ in range(4):
            make_article()
    with committed():
        story = make_article(title="Before the change")
    for url in (story.get_absolute_url(), "/"):
        assert "Before the change" in text(url)
    return story


def change_title(story, committed, title="After the change"):
    with committed():
        story.title = title
        story.save()


def test_a_change_shows_after_the_cache_lost_its_purge_sequence(shared_cache, committed):
    """The purge sequence evicted or culled: the next change still shows on every page, and
    what is built then is kept again."""
    story = a_busy_site(committed)
    cache.delete(store.SEQUENCE_KEY)
    change_title(story, committed)
    for url in (story.get_absolute_url(), "/"):
        html = text(url)
        assert "After the change" in html and "Before the change" not in html, url
        assert is_kept(url)


def test_a_lost_epoch_never_brings_back_pages_kept_before_it(hanging_redis, committed):
    """A change made while Redis hung retires every kept page once Redis answers; if the epoch
    that did it is evicted later, none of those pages comes back."""
    story = a_busy_site(committed)
    hanging_redis.send_signal(signal.SIGSTOP)
    change_title(story, committed)  # the purge cannot reach Redis
    hanging_redis.send_signal(signal.SIGCONT)
    time.sleep(0.3)  # the tolerant client asks Redis again
    assert "After the change" in text(story.get_absolute_url())  # a new epoch: built again
    cache.delete(store.EPOCH_KEY)
    html = text("/")  # kept before the change, in an epoch that ended
    assert "After the change" in html and "Before the change" not in html


def test_an_evicted_epoch_retires_what_was_kept_in_it(shared_cache, committed):
    """The epoch evicted or culled: every page kept in it is built again, then kept again."""
    story = a_busy_site(committed)
    urls = [story.get_absolute_url(), "/"]
    assert all(is_kept(url) for url in urls)
    cache.delete(store.EPOCH_KEY)
    assert not any(is_kept(url) for url in urls)
    assert all(is_kept(url) for url in urls)


def test_the_site_owner_retires_every_kept_page_with_one_command(client, committed, settings):
    """`manage.py retire_kept_pages`: every kept page and fragment is built again next time."""
    settings.PAGE_CACHE_SECONDS = 600
    with committed():
        story = make_article(title="Kept until retired")
    urls = [story.get_absolute_url(), "/", "/feed/"]
    for url in urls:
        client.get(url)
    assert [url for url in urls if not is_kept(url)] == []
    call_command("retire_kept_pages")
    assert not any(is_kept(url) for url in urls)
    assert all(is_kept(url) for url in urls)  # and kept again


def is_kept(url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert Client().get(url).status_code == 200
    return len(queries) == 0


# --- A change made from another process while Redis hung ---------------------------------------

# A story of its own each time (a shell's factories count from 1 again: skip what exists).
MAKE_STORY = (
    "import itertools; from articles.models import Article; from tests import factories;"
    "factories._counter = itertools.count(100 * Article.objects.count() + 1);"
    "a = factories.make_article(title='Before the hang'); print(a.pk, a.get_absolute_url())"
)


def edit_title(pk, *, linger=0.0, exit_retry=None):
    """An editor's `manage.py shell`: renames story `pk`, prints "saved", stays `linger`
    seconds; its store tries `exit_retry` seconds at exit (None: as deployed)."""
    code = "from newsroom.caching import store;"
    if exit_retry is not None:
        code += f"store.EXIT_RETRY_SECONDS = {exit_retry};"
    code += (
        "from articles.models import Article; import time;"
        f"a = Article.objects.get(pk={pk}); a.title = 'After the hang'; a.save();"
        f"print('saved', flush=True); time.sleep({linger})"
    )
    return [sys.executable, "manage.py", "shell", "-v0", "-c", code]


@pytest.fixture(scope="module")
def site_on_private_redis(tmp_path_factory, static_root):
    """gunicorn (two workers) on SQLite with its cache in a redis-server of the test's own;
    yields (base URL, the server's environment, the redis-server process)."""
    with site_on_throwaway_redis(tmp_path_factory.mktemp("recovery"), static_root) as site:
        yield site


@pytest.fixture
def hung_story(site_on_private_redis):
    """A new story, its page kept by both workers, then Redis stopped (its data still there);
    yields (base URL, the story's path, its pk, environment, redis-server); Redis resumes after."""
    base, env, server = site_on_private_redis
    pk, path = manage("shell", "-v0", "-c", MAKE_STORY, env=environment(**env)).stdout.split()
    for _ in range(6):
        assert "Before the hang" in fetch(base + path)[2]
    server.send_signal(signal.SIGSTOP)
    try:
        yield base, path, pk, env, server
    finally:
        server.send_signal(signal.SIGCONT)


def wait_for_the_change(base, path, seconds):
    """Seconds until every worker shows the new title (None: not within `seconds`)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        pages = [fetch(base + path)[2] for _ in range(4)]
        if all("After the hang" in page for page in pages):
            return time.monotonic() - started
        time.sleep(0.1)
    return None


@pytest.mark.django_db(False)
def test_a_process_that_missed_a_purge_retires_kept_pages_once_redis_answers(hung_story):
    """An editor's shell saves a change while Redis hangs and stays open, serving no request:
    within about a second of Redis answering again, no worker serves the old page."""
    base, path, pk, env, server = hung_story
    editor = subprocess.Popen(
        edit_title(pk, linger=15),
        cwd=ROOT,
        env=environment(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert editor.stdout.readline().strip() == "saved"
        server.send_signal(signal.SIGCONT)
        took = wait_for_the_change(base, path, 4)
        assert took is not None, "the old page was still served"
        print(f"\n[retired in the background] {took:.2f}s after Redis answered")
        assert editor.poll() is None  # it did so while still open
    finally:
        editor.terminate()
        editor.wait(timeout=10)


@pytest.mark.django_db(False)
def test_a_process_that_exits_right_after_the_change_retires_kept_pages_first(hung_story):
    """The shell exits at once after the change; Redis answers a second later, while it is
    still trying at exit: the change shows, and nothing is logged as left unretired."""
    base, path, pk, env, server = hung_story
    editor = subprocess.Popen(
        edit_title(pk),
        cwd=ROOT,
        env=environment(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert editor.stdout.readline().strip() == "saved"
    time.sleep(1)
    server.send_signal(signal.SIGCONT)
    _out, err = editor.communicate(timeout=20)
    assert editor.returncode == 0
    assert "retire_kept_pages" not in err
    assert wait_for_the_change(base, path, 1) is not None


@pytest.mark.django_db(False)
def test_a_purge_left_unretired_at_exit_is_named_with_the_command_that_retires_it(hung_story):
    """Redis still hung when the shell gives up at exit: it logs an error naming what was not
    retired and the command to run; once Redis answers, that command shows the change."""
    base, path, pk, env, server = hung_story
    result = subprocess.run(
        edit_title(pk, exit_retry=1),
        cwd=ROOT,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, result.stderr
    assert f"article-{pk}" in errors[0]
    assert "python manage.py retire_kept_pages" in errors[0]
    server.send_signal(signal.SIGCONT)
    time.sleep(0.5)
    assert "Before the hang" in fetch(base + path)[2]  # what the error warned of
    output = manage("retire_kept_pages", env=environment(**env)).stdout
    assert "retired" in output
    assert wait_for_the_change(base, path, 1) is not None


def test_a_write_redis_did_not_take_is_reported_so_a_purge_is_not_taken_as_done(hanging_redis):
    """Redis stops answering between a purge's number and the write of its tags: set_many
    says which keys were not set (Django's Redis backend says none, whatever happened), so the
    store notes the missed purge and retires everything once Redis answers."""
    assert cache.set_many({"tag-a": 1, "tag-b": 2}, None) == []
    hanging_redis.send_signal(signal.SIGSTOP)
    try:
        assert sorted(cache.set_many({"tag-a": 3, "tag-b": 4}, None)) == ["tag-a", "tag-b"]
    finally:
        hanging_redis.send_signal(signal.SIGCONT)
