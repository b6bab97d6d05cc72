"""Announcing changes: after a change commits, its tags are purged everywhere."""

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


def announce(*tags, using=None):
    """Announce that what carries any of `tags` (strings) has changed. The purge happens once
    the current transaction commits (at once outside one), so nothing is rebuilt from the old
    rows, and not at all if it rolls back."""
    tags = frozenset(tag for tag in tags if tag)
    if tags:
        transaction.on_commit(partial(purge_now, tags), using=using)
