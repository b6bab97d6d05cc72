"""Announcing changes: after a change commits, its tags are purged everywhere."""

import threading
from contextlib import contextmanager
from functools import partial

from django.db import transaction
from django.dispatch import Signal

from . import frontcache, store

# Sent after each purge, with `tags` (a frozenset of strings): e.g. for live updates.
content_changed = Signal()


def purge_now(tags):
    """Purge `tags` from the store and the front cache now, and send `content_changed`."""
    tags = frozenset(tags)
    if not tags:
        return
    store.purge(tags)
    frontcache.purger().purge(tags)
    content_changed.send(sender=None, tags=tags)


_gathering = threading.local()


def announce(*tags, using=None):
    """Announce that what carries any of `tags` (strings) has changed. The purge happens once
    the current transaction commits (at once outside one), so nothing is rebuilt from the old
    rows, and not at all if it rolls back. Inside `announced_together()`, the tags wait for
    the end of that block."""
    tags = frozenset(tag for tag in tags if tag)
    gathered = getattr(_gathering, "tags", None)
    if gathered is not None:
        gathered |= tags
    elif tags:
        transaction.on_commit(partial(purge_now, tags), using=using)


@contextmanager
def announced_together(using=None):
    """Gather every announcement made inside the block (in this thread) into one, made when the
    block ends without an error: a bulk change (an import of thousands of rows) is one purge
    after its commit, one request to the front cache, not one per row. Nested blocks join the
    outermost one."""
    if getattr(_gathering, "tags", None) is not None:
        yield
        return
    _gathering.tags = set()
    try:
        yield
        tags = _gathering.tags
    finally:
        _gathering.tags = None
    announce(*tags, using=using)
