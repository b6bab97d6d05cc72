import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploads and renditions go to a temporary folder, never the developer's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _static_without_manifest(settings):
    """Tests run without `collectstatic`, so static URLs come unhashed from the app folders."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _local_memory_cache(settings):
    """Tests run in one process: the local-memory cache (a real cache whose entries and expiry
    times tests can read). The shared file cache of the default settings is tested with real
    server processes (tests/test_default_cache.py)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    """Tests see each view's own response; tests/test_caching.py turns the page cache on."""
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _clear_cache(_local_memory_cache):
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is slow on purpose and every factory account hashes a password; tests need speed.
    (tests/test_security_headers.py checks that the real settings use Argon2.)"""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
