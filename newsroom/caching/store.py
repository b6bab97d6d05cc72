"""The app's own store of kept pages and fragments, in Django's default cache.

Every purge takes the next number of one shared purge sequence (a counter in the cache) and
writes it under each purged tag. Every entry carries the tags of what it showed and the
sequence number read before its building began; it is served only while none of its tags was
purged at a later number. So an entry built from rows read before a change committed is never
served after that change is announced, however building and purging interleave, across
processes and servers, and without trusting any clock. A tag the cache cannot tell (never
purged, or evicted) is given the current number, which retires every entry that carried it:
the store never trusts what it cannot check, and with the cache unreachable nothing is kept.

Entries, and tags' purge numbers, also belong to an epoch (a random name kept in the cache):
only entries of the current epoch are served, and a new epoch starts with no tag purged. A
lost sequence or epoch (evicted from Redis, culled by the file cache) starts a new one, the
epoch written before the sequence is made again, and a lookup that finds either missing serves
nothing: no entry kept before the loss is ever served again, whatever the new sequence says.

A purge that cannot reach the cache (Redis hung or cut off, its data still there) is not
lost: the process that missed it starts a new epoch, which retires every entry, as soon as the
cache answers again: at its next lookup, from a background thread trying once a second, and at
exit for a few seconds. A process that exits first logs what was left unretired and the command
that retires it (`manage.py retire_kept_pages`).

Keys carry the release (see `release.py`), so a deploy starts with nothing kept.
"""

import atexit
import hashlib
import logging
import threading
import time
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
from .tags import apart, collecting, declare

logger = logging.getLogger(__name__)

FRAGMENT_SECONDS = 24 * 3600
SEQUENCE_KEY = "purge-sequence"
EPOCH_KEY = "store-epoch"
PURGED_KEY = "tag-purged:{}:{}"  # epoch, tag
ENTRY_KEY = "kept:" + RELEASE + ":{}"
# Where a sequence made again after a loss begins. Redis's INCR of a missing key makes it at 1,
# so a purge given a number this low knows the sequence was lost under it.
SEQUENCE_START = 1
# How often a process that missed a purge tries again to start a new epoch, and for how long it
# keeps trying when it exits.
RETRY_SECONDS = 1.0
EXIT_RETRY_SECONDS = 5.0
RETIRE_COMMAND = "python manage.py retire_kept_pages"

# Functions giving the next moment (an aware datetime) at which content changes by itself, such
# as a scheduled story going live; nothing is kept past it (apps register theirs in ready()).
_expiry_sources = []
_asking_sources = ContextVar("asking_expiry_sources", default=False)
# {entry key: the tags its entry carried when this process last saw it}, so that `lookup` reads
# their purge numbers in the same round trip as the entry. Only a hint: a wrong one costs a
# second read, never a stale answer.
_known_tags = {}
KNOWN_TAGS_LIMIT = 20000
# The epoch this process last read: the purge numbers `lookup` reads with an entry are those of
# this epoch. Also only a hint.
_epoch_seen = {"epoch": None}
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
    epoch: str  # the store's epoch then


def enabled():
    return settings.PAGE_CACHE_SECONDS > 0


def entry_key(parts):
    return ENTRY_KEY.format(hashlib.sha256(repr(parts).encode()).hexdigest())


def purged_key(epoch, tag):
    """The cache key (a str) under which `tag`'s last purge number in `epoch` is kept."""
    return PURGED_KEY.format(epoch, tag)


def current_mark(found=None):
    """(sequence, epoch): the purge sequence number now (an int) and the store's epoch (a
    32-hex-digit str), or None when the cache cannot tell. `found`: a get_many() answer that
    asked for both keys. Either one missing (never made, evicted, culled) starts a new epoch
    first (see `_start_again`), which retires every kept entry."""
    if found is None:
        found = cache.get_many([SEQUENCE_KEY, EPOCH_KEY])
    sequence, epoch = found.get(SEQUENCE_KEY), found.get(EPOCH_KEY)
    if sequence is None or epoch is None:
        return _start_again(sequence)
    _epoch_seen["epoch"] = epoch
    return sequence, epoch


def _start_again(sequence):
    """After a read found the sequence (`sequence` None) or the epoch missing: a new epoch, and
    the sequence made again if lost. (sequence, epoch) to keep new entries with, or None."""
    epoch = uuid.uuid4().hex
    if sequence is None:
        # Every number the lost sequence gave is void. The new epoch goes first: whoever reads
        # the new sequence reads the new epoch too (MGET is atomic; the file cache reads keys in
        # order, the sequence first), so no entry kept before the loss is served again.
        cache.set(EPOCH_KEY, epoch, None)
        taken = cache.add(SEQUENCE_KEY, SEQUENCE_START, None)
        sequence = SEQUENCE_START
    else:
        taken = cache.add(EPOCH_KEY, epoch, None)
    if not taken:  # another process was first (or the cache is unreachable): read theirs
        found = cache.get_many([SEQUENCE_KEY, EPOCH_KEY])
        if SEQUENCE_KEY not in found or EPOCH_KEY not in found:
            return None
        sequence, epoch = found[SEQUENCE_KEY], found[EPOCH_KEY]
    _epoch_seen["epoch"] = epoch
    return sequence, epoch


def purged_at(tags, sequence, epoch):
    """{tag: sequence number of its last purge in `epoch`} for `tags`; a tag the cache does not
    know is given `sequence` (the current number); tags the cache cannot tell at all are left
    out."""
    keys = {purged_key(epoch, tag): tag for tag in tags}
    found = cache.get_many(list(keys))
    missing = [key for key in keys if key not in found]
    if missing:
        add_many(dict.fromkeys(missing, sequence))
        found.update(cache.get_many(missing))
    return {keys[key]: number for key, number in found.items()}


def is_fresh(entry, sequence):
    """Whether no tag of `entry` was purged (in its epoch) after its building began."""
    if not entry.tags:
        return True
    purged = purged_at(entry.tags, sequence, entry.epoch)
    return len(purged) == len(entry.tags) and all(
        number <= entry.sequence for number in purged.values()
    )


def purge(tags):
    """Retire every kept entry that carries any of `tags` (an iterable of strings). Never
    raises: a purge the cache does not take is retried as a new epoch (see `_missed`)."""
    tags = frozenset(tags)
    if tags and not _record_purge(tags):
        _missed.note(tags)


def _record_purge(tags):
    """Whether the cache took the purge of `tags`: their next purge numbers, or a new epoch."""
    mark = current_mark()
    if mark is None:
        return False
    try:
        number = cache.incr(SEQUENCE_KEY)
    except ValueError:  # the cache unreachable, or the sequence lost since it was read
        return start_new_epoch()
    if number <= SEQUENCE_START:  # made again by incr() itself (Redis): retire everything
        return start_new_epoch()
    # The numbers go under the epoch read first: an epoch started since retired every entry
    # built before it, and its entries were built after this change committed.
    failed = cache.set_many({purged_key(mark[1], tag): number for tag in tags}, None)
    return not failed


def start_new_epoch():
    """Retire every kept page and fragment: the cache gets a new epoch, with no tag purged yet.
    Returns whether the cache took it (a bool; False when it cannot be reached)."""
    misses = _missed.count
    epoch = uuid.uuid4().hex
    cache.set(EPOCH_KEY, epoch, None)
    if cache.get(EPOCH_KEY) != epoch:
        return False
    _epoch_seen["epoch"] = epoch
    _missed.retired(misses)
    return True


class _MissedPurges:
    """The purges this process could not record (the cache unreachable, its data maybe still
    there), until a new epoch retires what they would have. The first miss starts a daemon
    thread trying once a second, so that other processes stop serving what they retire about a
    second after the cache answers again, and an exit hook trying for a few seconds more."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tags = set()  # what was not retired: empty once a new epoch began
        self.count = 0  # misses so far
        self.thread = None
        self.hooked = False

    def note(self, tags):
        with self.lock:
            self.tags |= tags
            self.count += 1
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self.retry_in_background, name="store-new-epoch", daemon=True
                )
                self.thread.start()
            if not self.hooked:
                atexit.register(self.retry_at_exit)
                self.hooked = True

    def retired(self, count):
        """A new epoch began after the first `count` misses: forget them (unless more came)."""
        with self.lock:
            if self.count == count:
                self.tags.clear()

    def retry_in_background(self):
        while True:
            time.sleep(RETRY_SECONDS)
            with self.lock:
                if not self.tags:  # retired meanwhile (by a lookup, say)
                    self.thread = None
                    return
            try:
                _try_new_epoch()
            except Exception:  # the thread must outlive any cache error
                logger.warning("Could not start a new epoch of the store.", exc_info=True)

    def retry_at_exit(self):
        deadline = time.monotonic() + EXIT_RETRY_SECONDS
        while self.tags and not _try_new_epoch():
            if time.monotonic() >= deadline:
                shown = sorted(self.tags)
                more = f" and {len(shown) - 20} more" if len(shown) > 20 else ""
                logger.error(
                    "The cache could not be reached to purge %s%s: kept pages and fragments "
                    "showing them may still be served. Once the cache answers, run: %s",
                    ", ".join(shown[:20]),
                    more,
                    RETIRE_COMMAND,
                )
                return
            time.sleep(min(RETRY_SECONDS, EXIT_RETRY_SECONDS / 5))


_missed = _MissedPurges()


def _try_new_epoch():
    """start_new_epoch(), asking a cache that can say whether it answers (newsroom.cache's
    probe()) first, past its pause after a failure."""
    probe = getattr(cache, "probe", None)
    if probe is not None and not probe():
        return False
    return start_new_epoch()


def lookup(key):
    """(entry or None, mark): the Entry kept under `key` if still fresh (its tags are then
    declared), and the mark to keep a new one with: the purge sequence number and epoch read
    before building begins (None: the cache cannot tell, keep nothing).

    One round trip when this process has seen the entry before: the purge numbers of the tags
    it carried then are read with it (see `_known_tags`), and only a changed set of tags or a
    new epoch costs a second read. A read that finds the sequence or the epoch missing serves
    nothing (see `current_mark`)."""
    if _missed.tags and not start_new_epoch():
        return None, None  # the cache is still unreachable
    epoch_seen = _epoch_seen["epoch"]
    known = _known_tags.get(key, ()) if epoch_seen else ()
    purged_keys = [purged_key(epoch_seen, tag) for tag in known]
    found = _read([key, SEQUENCE_KEY, EPOCH_KEY, *purged_keys])
    mark = current_mark(found)
    if mark is None:
        return None, None
    if SEQUENCE_KEY not in found or EPOCH_KEY not in found:
        _note_mark(mark)
        return None, mark  # a new epoch began: nothing kept before it is served
    entry = found.get(key)
    if not isinstance(entry, Entry) or entry.epoch != mark[1]:
        return None, mark
    if (
        entry.tags == frozenset(known)
        and entry.epoch == epoch_seen
        and all(k in found for k in purged_keys)
    ):
        # Read in the same atomic MGET as the entry: as current as a read after it.
        fresh = all(found[k] <= entry.sequence for k in purged_keys)
    else:
        _remember_tags(key, entry.tags)
        fresh = is_fresh(entry, mark[0])
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


def _note_mark(mark):
    """After a new epoch began: lookups answered from the prefetch read use its mark."""
    prefetch = _prefetched.get()
    if prefetch is not None and SEQUENCE_KEY in prefetch.read:
        prefetch.found[SEQUENCE_KEY], prefetch.found[EPOCH_KEY] = mark


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
    epoch_seen = _epoch_seen["epoch"]
    keys = [SEQUENCE_KEY, EPOCH_KEY] if known else []
    for key in known:
        keys.append(key)
        if epoch_seen:
            keys += [purged_key(epoch_seen, tag) for tag in _known_tags.get(key, ())]
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
    to tell by: the store is off or the cache unreachable). An entry kept with a mark of an
    epoch that has ended since is never served, so only purges in the mark's epoch count."""
    if mark is None or not tags:
        return False
    sequence, epoch = mark
    found = cache.get_many([purged_key(epoch, tag) for tag in tags])
    return any(number > sequence for number in found.values())


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
    unless_purged = dict.fromkeys((purged_key(epoch, tag) for tag in tags), sequence)
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
    while it is down), a moment under a second away: what cannot be checked is not kept. What
    the source reads is no tag of the page being kept: it caps how long, not what it shows (a
    change that moves the moment announces the tags of the pages it alters)."""
    try:
        with apart():
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
