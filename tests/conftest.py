import pytest
from django.core.cache import cache

from .frontcache import recorder  # noqa: F401 - a fixture for every test: a recording purge API
from .servers import throwaway_redis


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploads and renditions go to a temporary folder of each test, never the developer's
    media/. (Fixed settings for tests are in newsroom/settings_test.py.)"""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (the local-memory cache of newsroom/settings_test.py,
    or whichever cache the test set)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """Collected static files for real servers, as `make serve` has them (debug off needs the
    manifest)."""
    from .servers import environment, manage

    root = tmp_path_factory.mktemp("static")
    manage("collectstatic", "--noinput", "-v0", env=environment(STATIC_ROOT=str(root)))
    return root


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what happens after commit (search index, purges) at the
    end of the block, as a real site does when a change commits."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def hanging_redis(settings, monkeypatch):
    """A throwaway Redis of our own, which the test can make hang (SIGSTOP) and resume."""
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
