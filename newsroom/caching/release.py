"""The release: a digest of everything that changes how a page looks.

Every key of the app's store carries it, and the front cache is purged whole when an app server
of another release starts (frontcache.purge_previous_release), so a deploy starts with nothing
kept, in the app or at the edge."""

import contextlib
import hashlib
from importlib import metadata
from pathlib import Path

from django.conf import settings

FOLDERS = ("articles", "comments", "newsroom", "templates")
# Under FOLDERS, what never changes a page: bytecode, and migrations (the schema, not the HTML).
SKIPPED_FOLDERS = ("__pycache__", "migrations")
# Libraries whose upgrade changes rendered HTML (Markdown, sanitising, forms, dates).
LIBRARIES = ("django", "markdown", "nh3", "django-crispy-forms", "crispy-bootstrap5")


def release():
    """A 16-hex-digit digest of every file under the code and templates folders (FOLDERS:
    templates of any kind, .html, .xml sitemaps, .txt emails, and the code, whatever its
    suffix; __pycache__ and migrations aside),
    the versions of the libraries that render HTML, and the static files' hashed names (the
    manifest `collectstatic` writes). Every kept page's and fragment's key carries it, and an
    app server starting with another one than the front cache was last purged for purges it,
    so a deploy that changes any of them starts with nothing kept."""
    digest = hashlib.sha256()
    for folder in FOLDERS:
        root = settings.BASE_DIR / folder
        for path in sorted(root.rglob("*")):
            skipped = any(part in SKIPPED_FOLDERS for part in path.relative_to(root).parts)
            if path.is_file() and not skipped:
                digest.update(str(path.relative_to(settings.BASE_DIR)).encode())
                digest.update(path.read_bytes())
    for library in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(f"{library}=={metadata.version(library)}".encode())
    manifest = settings.STATIC_ROOT / "staticfiles.json"
    if manifest.exists():
        digest.update(manifest.read_bytes())
    return digest.hexdigest()[:16]


RELEASE = release()


def renderer_version(source_file, *libraries):
    """16 hex digits naming a renderer of derived HTML (a story's or comment's body): its
    source file's content and the versions of `libraries` (distribution names). HTML stored
    with another version is rendered again when it is next read."""
    digest = hashlib.sha256(Path(source_file).read_bytes())
    for library in libraries:
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(f"{library}=={metadata.version(library)}".encode())
    return digest.hexdigest()[:16]
