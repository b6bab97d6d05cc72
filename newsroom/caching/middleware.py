"""Public pages kept whole and marked for shared caches; personal ones kept private."""

import gzip
import hashlib
import time
from contextlib import suppress
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError
from django.http import HttpResponse, QueryDict
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import url_has_allowed_host_and_scheme

from . import frontcache, holes, store
from .personal import is_personal, personal_only_in_holes
from .tags import collecting

PAGE_KEY_PARTS = "page"
NOT_KEPT_HEADERS = {"content-length", "set-cookie", "date", "etag"}
KEPT_VARY = {"cookie", "accept-encoding"}
UNTAGGED_SECONDS = 60  # what nothing purges (robots.txt) is kept this long by shared caches
STALE_WHILE_REVALIDATE_SECONDS = 30
STALE_IF_ERROR_SECONDS = 86400  # a day of kept pages while the app is down

# Query parameters a link carries for analytics or an advertiser, which change nothing on a
# page: campaign names (utm_*) and per-click ids, a new value for every click (fbclid,
# gclid, ...). Dropped before a page is looked up, built or kept (TrackingParametersMiddleware),
# and left out of the front cache's key for its copies (the VCL's marked list; a test compares
# the two), so a story shared during a spike is one kept copy, not one per click. Analytics
# scripts still read them from the browser's address bar, redirects included.
TRACKING_PARAMETER_PREFIXES = ("utm_",)
TRACKING_PARAMETERS = frozenset(
    {
        "_ga",  # Google Analytics cross-domain linker
        "_gl",  # Google tag linker
        "dclid",  # Google Display & Video 360 click id
        "fbclid",  # Facebook click id
        "gbraid",  # Google Ads (iOS, app to web)
        "gclid",  # Google Ads click id
        "igshid",  # Instagram share id
        "mc_cid",  # Mailchimp campaign id
        "mc_eid",  # Mailchimp subscriber id
        "msclkid",  # Microsoft Advertising click id
        "ttclid",  # TikTok click id
        "twclid",  # X (Twitter) click id
        "wbraid",  # Google Ads (iOS, web to app)
        "yclid",  # Yandex click id
    }
)


@dataclass(frozen=True)
class Snapshot:
    """What is kept of a public page: its body gzipped once, when it is kept (a public page
    holds no secret, so compressing it gives nothing away; a tenth of the bytes to read from
    the cache), its headers and ETag, until when shared caches may keep it (None: not
    capped, see `mark_public`), and its holes (see holes.cut: None when a personal request
    for it must be built whole)."""

    gzipped: bytes
    headers: tuple
    etag: str
    until: float | None
    holes: tuple | None = None

    @classmethod
    def of(cls, response, until, spans=None):
        headers = tuple(
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in NOT_KEPT_HEADERS
        )
        etag = hashlib.sha256(response.content).hexdigest()[:32]
        gzipped = gzip.compress(response.content, compresslevel=6, mtime=0)
        return cls(gzipped, headers, etag, until, spans)

    def response(self, request):
        """The page for `request`: gzipped when the client accepts it."""
        zipped = accepts_gzip(request)
        response = HttpResponse(self.gzipped if zipped else gzip.decompress(self.gzipped))
        for name, value in self.headers:
            response[name] = value
        if zipped:
            response["Content-Encoding"] = "gzip"
        patch_vary_headers(response, ["Accept-Encoding"])
        response["Content-Length"] = str(len(response.content))
        response["ETag"] = f'"{self.etag}-gzip"' if zipped else f'"{self.etag}"'
        return response

    def filled(self, request):
        """The page for a request personal only in its holes: this page with each hole built
        for `request` (see holes.fill), its headers, not compressed (like every page built for
        one browser: it may hold what that reader typed)."""
        body = holes.fill(gzip.decompress(self.gzipped), self.holes, request)
        response = HttpResponse(body)
        for name, value in self.headers:
            response[name] = value
        response["Content-Length"] = str(len(body))
        return response


def is_tracking_parameter(name):
    """Whether a query parameter's raw name (as in the URL, not decoded) is one of
    TRACKING_PARAMETERS or starts with one of TRACKING_PARAMETER_PREFIXES."""
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PARAMETER_PREFIXES)


def split_tracking(query_string):
    """(kept, dropped): `query_string` (raw, as in the URL) without its tracking parameters, the
    others as they were and in their order (empty ones dropped), and the tracking parameters it
    had, raw. "page=2&utm_source=x&fbclid=y" -> ("page=2", "utm_source=x&fbclid=y")."""
    kept, dropped = [], []
    for part in query_string.split("&"):
        if part:
            (dropped if is_tracking_parameter(part.split("=", 1)[0]) else kept).append(part)
    return "&".join(kept), "&".join(dropped)


def without_tracking(query_string):
    """`query_string` without its tracking parameters (see split_tracking)."""
    return split_tracking(query_string)[0]


def _query_dict(request, query_string):
    """request.GET for `query_string`, built as Django's handlers build it: under WSGI the
    query string in META is its bytes read as ISO-8859-1 (PEP 3333), so those bytes are
    parsed (a raw "café" stays "café"); under ASGI it is already text."""
    if isinstance(request, WSGIRequest):
        with suppress(UnicodeEncodeError):
            query_string = query_string.encode("iso-8859-1")
    return QueryDict(query_string, encoding=request.encoding)


def carry_tracking(response, dropped, request):
    """A redirect within the site (a missing slash, an old link) takes the tracking parameters
    `dropped` (raw) along, so the page it leads to still shows them to analytics in the
    address bar; such a redirect is private, as the next reader's link has its own. One to
    another site gets none of them (a click id is not theirs to read)."""
    location = response["Location"]
    try:
        host = request.get_host()
    except DisallowedHost:
        return
    if not url_has_allowed_host_and_scheme(location, allowed_hosts={host}):
        return
    address, hash_mark, fragment = location.partition("#")
    separator = "&" if "?" in address else "?"
    response["Location"] = f"{address}{separator}{dropped}{hash_mark}{fragment}"
    patch_cache_control(response, private=True)


def is_admin_path(path):
    """Whether `path` is the admin's (/admin or under /admin/): never shared, never rewritten
    (the VCL treats the same paths as the admin)."""
    return path == "/admin" or path.startswith("/admin/")


class TrackingParametersMiddleware:
    """Drops tracking parameters (see TRACKING_PARAMETERS) from GET and HEAD requests outside
    the admin, before anything reads the query string: every view, redirect and cache key
    sees the link without them (the front cache keys its copies the same way). A redirect
    within the site takes them along (see carry_tracking)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query_string = request.META.get("QUERY_STRING", "")
        dropped = ""
        if query_string and request.method in ("GET", "HEAD") and not is_admin_path(request.path):
            cleaned, dropped = split_tracking(query_string)
            if cleaned != query_string:
                request.META["QUERY_STRING"] = cleaned
                request.GET = _query_dict(request, cleaned)
        response = self.get_response(request)
        if dropped and 300 <= response.status_code < 400 and response.has_header("Location"):
            carry_tracking(response, dropped, request)
        return response


def accepts_gzip(request):
    return "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "").lower()


def may_share(request):
    """Whether this request may be answered with a page kept for everyone."""
    return request.method in ("GET", "HEAD") and not (
        is_personal(request) or is_admin_path(request.path)
    )


def may_keep(response):
    """A complete 200 page that sets no cookie and did not ask to stay private."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = response.get("Cache-Control", "").lower()
    if any(word in cache_control for word in ("private", "no-store", "no-cache", "max-age=0")):
        return False
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
    return vary <= KEPT_VARY


def page_key(request):
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return store.entry_key((PAGE_KEY_PARTS, url))


def shared_until(tags):
    """Until when (a time.time() value) shared caches may keep a page with `tags`: a day
    (SHARED_CACHE_SECONDS), cut short when content changes by itself sooner (a scheduled story
    going live); None for a page without tags (nothing purges it: kept briefly)."""
    if not tags:
        return None
    return time.time() + store.keep_seconds(settings.SHARED_CACHE_SECONDS)


def mark_public(response, tags, until):
    """Name a public page's tags for the front cache, with the site-wide tag that a new
    release purges (frontcache.SITE_TAG), and (unless its view said otherwise) let browsers
    keep it briefly and shared caches until `until` (see `shared_until`), serving it stale
    while revalidating or while the app is down."""
    frontcache.name_tags(response, tags)
    if "Cache-Control" in response:
        return response  # the view said how long (robots.txt, the favicon)
    shared = UNTAGGED_SECONDS if until is None else max(0, int(until - time.time()))
    directives = {
        "public": True,
        "max_age": min(settings.BROWSER_CACHE_SECONDS, shared),
        "s_maxage": shared,
        "stale_if_error": STALE_IF_ERROR_SECONDS,
    }
    if until is None or shared >= settings.SHARED_CACHE_SECONDS - 60:
        # Not when a scheduled story's go-live ends the keeping: it must not be served stale.
        directives["stale_while_revalidate"] = STALE_WHILE_REVALIDATE_SECONDS
    patch_cache_control(response, **directives)
    return response


class SharedCacheMiddleware:
    """Serve and keep public pages (see `may_share` and `may_keep`) in the store with their
    tags, send them with `mark_public`'s headers, and answer conditional GETs with 304.
    Everything else is sent as its view made it, and private unless the view said otherwise.
    Goes after the authentication middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not may_share(request):
            # Built for one browser (it may show a reader their own pending comment or typed
            # values): stored by no cache, unless the view said otherwise. Its shared
            # fragments are read in one go (see store.prefetching). A request personal only in
            # a page's holes gets the kept public page with its holes filled for it.
            key = page_key(request)
            with store.prefetching(key), store.one_reading():
                response = self.filled(request, key)
                if response is None:
                    response = self.get_response(request)
            if "Cache-Control" not in response:
                add_never_cache_headers(response)
            patch_vary_headers(response, ["Cookie"])
            return response

        key = page_key(request)
        with collecting() as tags, store.one_reading():
            entry, mark = store.lookup(key) if store.enabled() else (None, None)
            if entry is not None:
                kept = entry.value
                response = kept.response(request)
            else:
                with store.prefetching(key), holes.punching() as punched:
                    response = self.get_response(request)
                spans = None  # where the page's holes are (see holes.cut)
                if not response.streaming:
                    response.content, spans = holes.cut(response.content, punched)
                    if response.has_header("Content-Length"):
                        response["Content-Length"] = str(len(response.content))
                if not may_keep(response):
                    if response.status_code != 200 and "Cache-Control" not in response:
                        patch_cache_control(response, no_cache=True)
                    patch_vary_headers(response, ["Cookie"])
                    return response
                kept = Snapshot.of(response, shared_until(tags), spans)
                response = kept.response(request)
                if store.changed_since(mark, tags):
                    # A change committed while this page was built from the rows before it:
                    # this reader gets it, no cache keeps it.
                    patch_vary_headers(response, ["Cookie"])
                    add_never_cache_headers(response)
                    return response
                store.keep(key, kept, tags=tags, mark=mark, seconds=settings.PAGE_CACHE_SECONDS)
        patch_vary_headers(response, ["Cookie"])
        mark_public(response, tags, kept.until)
        return get_conditional_response(request, etag=response["ETag"], response=response)

    @staticmethod
    def filled(request, key):
        """The kept public page under `key` with its holes filled for `request`, or None when
        the request is personal beyond holes, or no fit page is kept."""
        if not (personal_only_in_holes(request) and store.enabled()):
            return None
        entry, _ = store.lookup(key)
        if entry is None or getattr(entry.value, "holes", None) is None:
            return None
        try:
            return entry.value.filled(request)
        except DatabaseError:
            # A hole the database cannot fill now: the page is built whole instead, so the
            # view's failure is answered like any other (the site's 503 with Retry-After, from
            # newsroom.middleware.DatabaseUnavailableMiddleware), never a 500 from here.
            return None
