"""A change shows even when the cache lost what the store keeps to tell kept pages from stale
ones (its purge sequence, its epoch: evicted by Redis, culled by the file cache), or was hung
when the change was made."""

import signal
import time

import pytest
from django.core.cache import cache
from django.test import Client

from newsroom.caching import store

from .factories import make_article
from .servers import throwaway_redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_redis(settings, monkeypatch):
    """The default cache in a redis-server of the test's own, which it may stop (SIGSTOP)."""
    with throwaway_redis() as server:
        monkeypatch.setattr("newsroom.cache.RETRY_AFTER_SECONDS", 0.2)
        settings.CACHES = {
            "default": {
                "BACKEND": "newsroom.cache.TolerantRedisCache",
                "LOCATION": f"redis://127.0.0.1:{server.port}/0",
                "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
            }
        }
        settings.PAGE_CACHE_SECONDS = 600
        yield server


@pytest.fixture(params=["redis", "file"])
def shared_cache(request, settings, tmp_path):
    """The default cache as deployed: Redis (a private redis-server) or the file cache."""
    if request.param == "redis":
        yield request.getfixturevalue("private_redis")
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


def test_a_lost_epoch_never_brings_back_pages_kept_before_it(private_redis, committed):
    """A change made while Redis hung retires every kept page once Redis answers; if the epoch
    that did it is evicted later, none of those pages comes back."""
    story = a_busy_site(committed)
    private_redis.send_signal(signal.SIGSTOP)
    change_title(story, committed)  # the purge cannot reach Redis
    private_redis.send_signal(signal.SIGCONT)
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


def is_kept(url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert Client().get(url).status_code == 200
    return len(queries) == 0
