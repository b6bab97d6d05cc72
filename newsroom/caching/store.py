"""The app's own store of kept pages and fragments, in Django's default cache.

Every purge takes the next number of one shared purge sequence (a counter in the cache) and
writes it under each purged tag. Every entry carries the tags of what it showed and the
sequence number read before its building began; it is served only while none of its tags was
purged at a later number. So an entry built from rows read before a change committed is never
served after that change is announced, however building and purging interleave, across
processes and servers, and without trusting any clock. A tag the cache cannot tell (never
purged, or evicted) is given the current number, which retires every entry that carried it:
the store never trusts what it cannot check, and with the cache unreachable nothing is kept.

A purge that cannot reach the cache (Redis hung or cut off, its data still there) is not
lost: the process that missed it starts a new epoch as soon as the cache answers again, and
every entry of an older epoch is retired.

Keys carry the release (see `release.py`), so a deploy starts with nothing kept.
"""

import hashlib
import threading
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils.safestring import mark_safe

from .release import RELEASE
from .tags import collecting, declare

FRAGMENT_SECONDS = 24 * 3600
SEQUENCE_KEY = "purge-sequence"
EPOCH_KEY = "store-epoch"
PURGED_KEY = "tag-purged:{}"
ENTRY_KEY = "kept:" + RELEASE + ":{}"

# Functions giving the next moment (an aware datetime) at which content changes by itself, such
# as a scheduled story going live; nothing is kept past it (apps register theirs in ready()).
_expiry_sources = []
_asking_sources = ContextVar("asking_expiry_sources", default=False)
# Set when this process could not record a purge: a new epoch is due once the cache answers.
_missed_purge = threading.Event()
# {entry key: the tags its entry carried when this process last saw it}, so that `lookup` reads
# their purge numbers in the same round trip as the entry. Only a hint: a wrong one costs a
# second read, never a stale answer.
_known_tags = {}
KNOWN_TAGS_LIMIT = 20000
# {page key: the entry keys building it looked up, the last time this process built it}: what
# `prefetching` reads up front. Also only a hint.
_known_lookups = {}
_prefetched = ContextVar("store_prefetched", default=None)
# What `keep_seconds` found while one request is being answered (see `one_reading`).
_moments_read = ContextVar("expiry_moments_read", default=None)


@dataclass(frozen=True)
class Entry:
    sequence: int  # the purge sequence number read before building began
    tags: frozenset
    value: object
    epoch: str | None = None  # the store's epoch then (see `start_new_epoch`)


def enabled():
    return settings.PAGE_CACHE_SECONDS > 0


def entry_key(parts):
    return ENTRY_KEY.format(hashlib.sha256(repr(parts).encode()).hexdigest())


def current_sequence(found=None):
    """The purge sequence number now (an int), or None when the cache cannot tell. `found`: a
    get_many() answer that may already hold it."""
    number = (found or {}).get(SEQUENCE_KEY)
    if number is None:
        cache.add(SEQUENCE_KEY, 0, None)
        number = cache.get(SEQUENCE_KEY)
    return number


def purged_at(tags, sequence):
    """{tag: sequence number of its last purge} for `tags`; a tag the cache does not know is
    given `sequence` (the current number); tags the cache cannot tell at all are left out."""
    keys = {PURGED_KEY.format(tag): tag for tag in tags}
    found = cache.get_many(list(keys))
    missing = [key for key in keys if key not in found]
    if missing:
        add_many(dict.fromkeys(missing, sequence))
        found.update(cache.get_many(missing))
    return {keys[key]: number for key, number in found.items()}


def is_fresh(entry, sequence):
    """Whether no tag of `entry` was purged after its building began."""
    if not entry.tags:
        return True
    purged = purged_at(entry.tags, sequence)
    return len(purged) == len(entry.tags) and all(
        number <= entry.sequence for number in purged.values()
    )


def purge(tags):
    """Retire every kept entry that carries any of `tags` (an iterable of strings)."""
    tags = list(tags)
    if not tags:
        return
    cache.add(SEQUENCE_KEY, 0, None)
    try:
        number = cache.incr(SEQUENCE_KEY)
    except ValueError:  # the cache is unreachable: retire everything once it is back
        _missed_purge.set()
        return
    failed = cache.set_many({PURGED_KEY.format(tag): number for tag in tags}, None)
    if failed:
        _missed_purge.set()


def start_new_epoch():
    """Retire every kept entry (after a purge this process could not record). Returns whether
    the cache took the new epoch."""
    epoch = uuid.uuid4().hex
    cache.set(EPOCH_KEY, epoch, None)
    if cache.get(EPOCH_KEY) != epoch:
        return False
    _missed_purge.clear()
    return True


def lookup(key):
    """(entry or None, mark): the Entry kept under `key` if still fresh (its tags are then
    declared), and the mark to keep a new one with: the purge sequence number and epoch read
    before building begins (None: the cache cannot tell, keep nothing).

    One round trip when this process has seen the entry before: the purge numbers of the tags
    it carried then are read with it (see `_known_tags`), and only a changed set of tags costs
    a second read."""
    if _missed_purge.is_set() and not start_new_epoch():
        return None, None  # the cache is still unreachable
    known = _known_tags.get(key, ())
    purged_keys = [PURGED_KEY.format(tag) for tag in known]
    found = _read([key, SEQUENCE_KEY, EPOCH_KEY, *purged_keys])
    sequence = current_sequence(found)
    if sequence is None:
        return None, None
    _note_sequence(sequence)
    mark = (sequence, found.get(EPOCH_KEY))
    entry = found.get(key)
    if not isinstance(entry, Entry) or entry.epoch != mark[1]:
        return None, mark
    if entry.tags == frozenset(known) and all(k in found for k in purged_keys):
        # Read in the same atomic MGET as the entry: as current as a read after it.
        fresh = all(found[k] <= entry.sequence for k in purged_keys)
    else:
        _remember_tags(key, entry.tags)
        fresh = is_fresh(entry, sequence)
    if not fresh:
        return None, mark
    declare(*entry.tags)
    return entry, mark


def _read(keys):
    """cache.get_many(keys), answered from what `prefetching` read when it read them all."""
    prefetch = _prefetched.get()
    if prefetch is None:
        return cache.get_many(keys)
    prefetch.asked.append(keys[0])
    if prefetch.read.issuperset(keys):
        return {key: prefetch.found[key] for key in keys if key in prefetch.found}
    return cache.get_many(keys)


def _note_sequence(sequence):
    prefetch = _prefetched.get()
    if prefetch is not None and SEQUENCE_KEY in prefetch.read:
        prefetch.found.setdefault(SEQUENCE_KEY, sequence)  # created by current_sequence()


@dataclass
class Prefetch:
    read: frozenset  # the keys read up front, found or not
    found: dict  # what was found of them
    asked: list = field(default_factory=list)  # the entry keys looked up since


@contextmanager
def prefetching(page):
    """Within this block (one page being built), the entries that building `page` (a key)
    looked up the last time this process built it (its fragments: story, threads, form...),
    the purge numbers of their tags, the sequence and the epoch are read in one round trip up
    front, and `lookup` answers from that read instead of one round trip each. What was read
    at the start of the request is as good as what a read in the middle of it would give; a
    fragment kept meanwhile is read again."""
    known = _known_lookups.get(page, ()) if enabled() else ()
    keys = [SEQUENCE_KEY, EPOCH_KEY] if known else []
    for key in known:
        keys += [key, *(PURGED_KEY.format(tag) for tag in _known_tags.get(key, ()))]
    prefetch = Prefetch(frozenset(keys), cache.get_many(keys) if known else {})
    token = _prefetched.set(prefetch)
    try:
        yield
    finally:
        _prefetched.reset(token)
        if prefetch.asked:
            if len(_known_lookups) >= KNOWN_TAGS_LIMIT:
                _known_lookups.clear()
            _known_lookups[page] = tuple(dict.fromkeys(prefetch.asked))


def _remember_tags(key, tags):
    if len(_known_tags) >= KNOWN_TAGS_LIMIT:
        _known_tags.clear()  # a bound, not a policy: entries are re-learnt on their next hit
    _known_tags[key] = tuple(tags)


def changed_since(mark, tags):
    """Whether any of `tags` was purged after `lookup` gave `mark` (False when there is no mark
    to tell by: the store is off or the cache unreachable)."""
    if mark is None or not tags:
        return False
    found = cache.get_many([PURGED_KEY.format(tag) for tag in tags])
    return any(number > mark[0] for number in found.values())


def add_many(data):
    """cache.add() for each item, in one round trip where the cache can (newsroom.cache)."""
    adder = getattr(cache, "add_many", None)
    if adder is not None:
        adder(data, None)
    else:
        for key, value in data.items():
            cache.add(key, value, None)


def keep(key, value, *, tags, mark, seconds):
    """Keep `value` under `key` with its `tags`, built from what was read after `lookup` gave
    `mark` (None: keep nothing), for at most `seconds`. A tag never purged yet is noted as
    purged at the mark's sequence number (an add: unless a purge got there first), so the entry
    is not taken for stale the first time it is looked up."""
    if mark is None:
        return
    sequence, epoch = mark
    unless_purged = dict.fromkeys((PURGED_KEY.format(tag) for tag in tags), sequence)
    entry = Entry(sequence, frozenset(tags), value, epoch)
    writer = getattr(cache, "add_many_and_set", None)  # one round trip (newsroom.cache)
    if writer is not None:
        writer(unless_purged, key, entry, keep_seconds(seconds))
    else:
        add_many(unless_purged)
        cache.set(key, entry, keep_seconds(seconds))
    _remember_tags(key, tags)
    prefetch = _prefetched.get()
    if prefetch is not None:
        prefetch.read -= {key}  # read it again if it is asked for again


def register_expiry(source):
    """Cap keeping at `source()` (an aware datetime or None), e.g. the next go-live."""
    _expiry_sources.append(source)


@contextmanager
def one_reading():
    """Within this block (one request), the moments of `register_expiry`'s sources are read
    once, however many pages and fragments are kept: a page and its fragments share one idea of
    when content changes by itself next."""
    token = _moments_read.set({})
    try:
        yield
    finally:
        _moments_read.reset(token)


def _expiry_moments(now):
    read = _moments_read.get()
    if read is not None and "moments" in read:
        moments = read["moments"]
        if not any(at is not None and at <= now for at in moments):
            return moments
        # A moment passed during the request: its source has more to do (next_go_live purges).
    token = _asking_sources.set(True)
    try:
        moments = [_ask(source, now) for source in _expiry_sources]
    finally:
        _asking_sources.reset(token)
    if read is not None:
        read["moments"] = moments
    return moments


def _ask(source, now):
    """source()'s moment; when the database cannot answer (a page served from kept fragments
    while it is down), a moment under a second away: what cannot be checked is not kept."""
    try:
        return source()
    except DatabaseError:
        return now + timedelta(microseconds=1)


def keep_seconds(limit):
    """`limit` seconds, cut short when content changes by itself sooner (see register_expiry)."""
    from django.utils import timezone

    if _asking_sources.get():  # a source keeping its own answer: it caps that itself
        return int(limit)
    now = timezone.now()
    for at in _expiry_moments(now):
        if at is not None and at > now:
            # Whole seconds, rounded down: under a second left means not kept at all.
            limit = min(limit, int((at - now).total_seconds()))
    return int(limit)


def remember(parts, build, seconds=FRAGMENT_SECONDS, *, tags=()):
    """build(), kept under `parts` (a tuple naming it) with the tags declared while building it
    plus `tags`, until one of them is purged, at most `seconds`. With keeping off
    (PAGE_CACHE_SECONDS = 0) it is built every time; its tags still reach the page."""
    declare(*tags)
    if not enabled():
        return build()
    key = entry_key(parts)
    entry, mark = lookup(key)
    if entry is not None:
        return entry.value
    with collecting() as found:
        declare(*tags)
        value = build()
    keep(key, value, tags=found, mark=mark, seconds=seconds)
    return value


def fragment(parts, render, seconds=FRAGMENT_SECONDS, *, tags=()):
    """HTML shared by every reader (`render()`'s), kept like `remember`. Only for public HTML:
    never a pending comment, a form with a token or anything else one reader brings."""
    html = remember(("fragment", *parts), lambda: str(render()), seconds, tags=tags)
    return mark_safe(html)  # noqa: S308 - rendered by a template, escaped there
