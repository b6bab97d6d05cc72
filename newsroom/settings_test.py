"""The test suite's settings: newsroom.settings (from the environment, as deployed), with what
only tests need changed. pytest-django uses it (pyproject.toml); servers the tests start as
separate processes run newsroom.settings itself (tests/servers.py).
"""

import os
import tempfile
from pathlib import Path

from newsroom.settings import *  # noqa: F403
from newsroom.settings import STORAGES

# Argon2 is slow on purpose and every factory account hashes a password; tests need speed.
# (tests/test_security_headers.py checks that the real settings use Argon2.)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests run without `collectstatic`, so static URLs come unhashed from the app folders.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tests run in one process: the local-memory cache (a real cache whose entries and expiry times
# tests can read; tests/conftest.py empties it around each test). The shared file cache of the
# default settings is tested with real server processes (tests/test_default_cache.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tests see each view's own response; tests/test_caching.py turns the page cache on.
PAGE_CACHE_SECONDS = 0

# The demo passwords of a test run never land in the checkout.
DEMO_PASSWORDS_FILE = Path(tempfile.gettempdir()) / f"newsroom-test-demo-passwords-{os.getpid()}"
