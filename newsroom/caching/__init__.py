"""Caching by what each response shows: tags, a shared store, purges and the front cache.

This package imports no app; apps depend on it, never the reverse.

How it fits together:

- **Tags** (`tags.py`): while a response or a fragment is built, everything it reads declares a
  tag: each model instance loaded from the database declares its own (``"event-7"``) and each
  query declares its model's collection (``"event-list"``), through `Tagged` and
  `TaggedQuerySet`; other things (a story's comment threads) are declared by hand with
  `declare()`.
- **Announcements** (`purge.py`): after a change commits, the app that owns the changed data
  announces exactly the tags it touched (`announce()`; each app connects its own receivers in
  its `AppConfig.ready()`). Every announced tag is purged from the store and from the front
  cache, and `content_changed` is sent.
- **The store** (`store.py`): pages and fragments kept in Django's default cache with the tags
  they showed; an entry is served only while none of its tags was purged after it was built,
  and only in the epoch it was kept in (a lost sequence or epoch, or a missed purge, starts a new
  one: `manage.py retire_kept_pages` does it by hand).
- **The front cache** (`frontcache.py`): Varnish (xkey), Fastly (Surrogate-Key) or Cloudflare
  (Cache-Tag), named by ``NEWSROOM_FRONT_CACHE``, purged by tag through one interface; every
  public response also carries the site-wide tag (``"site"``), which empties it in one purge.
- **The middleware** (`middleware.py`): public pages are kept whole in the store and sent with a
  ``Cache-Control`` a shared cache may keep, plus their tags; personal ones are private.
- **Personal** (`personal.py`): the one definition of "a request personal to one browser".
- **Holes** (`holes.py`): the parts of a kept page that one browser sees its own way; a request
  personal only in them gets the kept page with just those parts built for it.
- **Release** (`release.py`): a digest of everything that changes how a page looks; every key
  carries it, and an app server of a new release purges the site-wide tag from the front cache
  as it starts, so a deploy starts with nothing kept, in the app or at the edge.
"""

from .holes import note_personal_read, punch, register_filler
from .personal import has_session, is_personal, register_personal_cookie
from .purge import announce, announced_together, content_changed
from .release import RELEASE, renderer_version
from .store import fragment, keep_seconds, remember
from .tags import Tagged, TaggedQuerySet, all_tag, collecting, declare, list_tag, tag_for

__all__ = [
    "RELEASE",
    "all_tag",
    "Tagged",
    "TaggedQuerySet",
    "announce",
    "announced_together",
    "collecting",
    "content_changed",
    "declare",
    "fragment",
    "has_session",
    "is_personal",
    "keep_seconds",
    "list_tag",
    "note_personal_read",
    "punch",
    "register_filler",
    "register_personal_cookie",
    "remember",
    "renderer_version",
    "tag_for",
]
