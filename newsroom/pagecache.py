"""The anonymous page cache: whole public pages, kept for readers who bring nothing personal.

Who gets a kept page: a GET or HEAD that carries no cookie but the CSRF one and no credentials.
A session, a reader's pending-comments or saved-details cookie, or a message means the page is
built for that browser alone, every time.

What is kept: a 200 response its view did not mark private or uncacheable, with every per-reader
value cut out: the CSRF token and the comment form's signed "shown at" time are filled in fresh
for each reader who is served the page, so a first-time visitor can post a comment from it.

How it stays correct: any change to stories, results or comments retires every kept page at once
by changing one version stamp, after the change commits (see `changed()`). A page is kept at most
PAGE_CACHE_SECONDS, and never past the moment a scheduled story goes live.

Each page carries an ETag and Last-Modified; a conditional GET for an unchanged page gets 304.
"""

import hashlib
import re
import threading
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.middleware.csrf import get_token
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.safestring import mark_safe


def release():
    """A digest of the code and templates that render pages. It is part of every kept page's
    and fragment's key, so a deploy that changes either starts with nothing kept: no page or
    fragment rendered by the old templates, or stored in an old format, outlives it. (The
    version stamp is one for all releases: during a rolling deploy, a change made through an
    old server retires what the new ones keep, and the other way round.)"""
    digest = hashlib.sha256()
    for folder in ("articles", "comments", "newsroom", "templates"):
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.suffix in (".py", ".html") and "migrations" not in path.parts:
                digest.update(str(path.relative_to(settings.BASE_DIR)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


RELEASE = release()
VERSION_KEY = "pagecache:version"
PAGE_KEY = "pagecache:page:" + RELEASE + ":{}"
WATCHED_APPS = {"articles", "comments"}
# Hidden inputs whose values belong to one reader or one showing of a form.
FRESH_INPUT = re.compile(
    rb'(?<=<input type="hidden" name=")(csrfmiddlewaretoken|token)(" value=")([^"]*)(?=")'
)
KEPT_VARY = {"cookie", "accept-encoding"}
NOT_KEPT_HEADERS = {"content-length", "set-cookie", "date"}


# --- Invalidation ---------------------------------------------------------------------------


def bump():
    """Retire every kept page now."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def changed(using=None):
    """Retire every kept page once the current transaction commits (at once outside one)."""
    transaction.on_commit(bump, using=using)


def current_version():
    """The version stamp kept pages must carry; None when the cache cannot hold one."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def _saved(sender, instance, created, using, **kwargs):
    if sender._meta.app_label not in WATCHED_APPS:
        return
    # A new comment nobody else can see yet changes no public page.
    if created and getattr(instance, "status", "approved") != "approved":
        return
    changed(using)


def _deleted_or_linked(sender, using, **kwargs):
    if sender._meta.app_label in WATCHED_APPS:
        changed(using)


def connect_signals():
    """Saves, deletes and many-to-many changes in the watched apps retire kept pages.
    (Queryset updates send no signal: their callers call `changed()` themselves.) A request's
    start and end bound its one reading of the next go-live."""
    request_started.connect(_request_started, dispatch_uid="pagecache.request_started")
    request_finished.connect(_request_finished, dispatch_uid="pagecache.request_finished")
    post_save.connect(_saved, dispatch_uid="pagecache.saved")
    post_delete.connect(_deleted_or_linked, dispatch_uid="pagecache.deleted")
    m2m_changed.connect(_deleted_or_linked, dispatch_uid="pagecache.linked")


# --- Shared fragments -----------------------------------------------------------------------

FRAGMENT_KEY = "pagecache:fragment:" + RELEASE + ":{}"
FRAGMENT_SECONDS = 24 * 3600


def fragment(parts, render, seconds=FRAGMENT_SECONDS):
    """HTML shared by every reader (`render()`'s), kept until the next change to stories, results
    or comments retires it with the kept pages. `parts` name what else it depends on (the
    page number, whether comments are open ...). Only for public HTML: never a pending comment,
    a form, a token or anything else one reader brings (see `form_fragment` for forms). Off with
    the page cache."""
    html = remember(("shared", *parts), lambda: str(render()), seconds)
    return mark_safe(html)  # noqa: S308 - rendered by a template, escaped there


def form_fragment(parts, render, request):
    """A form that is the same for every reader but for its CSRF token and signed "shown at"
    time (a blank comment form): kept like `fragment`, with both filled in fresh per reader."""
    kept = remember(("form", *parts), lambda: split_fresh_inputs(str(render()).encode()))
    return mark_safe(fill_fresh_inputs(kept, request).decode())  # noqa: S308 - as above


def remember(parts, build, seconds=FRAGMENT_SECONDS):
    """build(), kept under `parts` until the next change to stories, results or comments (it is
    stored with the version stamp it was built for; both are read in one round trip), and at
    most `seconds`: what anyone can multiply by varying an address (a search per query) should
    not outlive a kept page (`settings.PAGE_CACHE_SECONDS`)."""
    if settings.PAGE_CACHE_SECONDS <= 0:
        return build()
    key = FRAGMENT_KEY.format(hashlib.sha256(repr(parts).encode()).hexdigest())
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY) or current_version()
    if version is None:
        return build()
    kept = found.get(key)
    if kept is not None and kept[0] == version:
        return kept[1]
    value = build()
    cache.set(key, (version, value), seconds_to_keep(seconds))
    return value


# --- Per-reader values in shared HTML -------------------------------------------------------


def split_fresh_inputs(content):
    """`content` (bytes) as a list of bytes, with an (input name, what a fresh value needs)
    tuple where each per-reader hidden input's value goes: nothing for the CSRF token, the
    story for the comment form's "shown at" token (read now, while its signature is ours, so a
    kept copy still serves after the secret key changes)."""
    from django.core import signing

    from comments.forms import TOKEN_SALT

    pieces = FRESH_INPUT.split(content)
    # split() gives: text, name, '" value="', value, text, name, ...
    parts = [pieces[0]]
    for i in range(1, len(pieces), 4):
        name, between, value, after = pieces[i : i + 4]
        story = signing.loads(value.decode(), salt=TOKEN_SALT)["a"] if name == b"token" else None
        parts += [name + between, (name.decode(), story), after]
    return parts


def fill_fresh_inputs(parts, request):
    """The content again, with a fresh CSRF token and form time for this reader."""
    from comments.forms import issue_token

    out = []
    for part in parts:
        if isinstance(part, bytes):
            out.append(part)
        elif part[0] == "csrfmiddlewaretoken":
            out.append(get_token(request).encode())
        else:
            out.append(issue_token(part[1]).encode())
    return b"".join(out)


# --- Kept pages -----------------------------------------------------------------------------


@dataclass
class KeptPage:
    version: str
    parts: list  # bytes, with (input name, old value) tuples where a fresh value goes
    headers: list
    etag: str
    modified: int

    @classmethod
    def from_response(cls, response, version):
        parts = split_fresh_inputs(response.content)
        digest = hashlib.sha256(version.encode())
        for part in parts:
            digest.update(part if isinstance(part, bytes) else part[0].encode())
        headers = [
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in NOT_KEPT_HEADERS
        ]
        return cls(version, parts, headers, f'W/"{digest.hexdigest()[:32]}"', int(time.time()))

    @property
    def per_reader(self):
        return any(isinstance(part, tuple) for part in self.parts)

    def response_for(self, request):
        from django.http import HttpResponse

        response = HttpResponse(fill_fresh_inputs(self.parts, request))
        for name, value in self.headers:
            response[name] = value
        return response


def stamp(response, page):
    """Validators and freshness rules for a response built from (or kept as) `page`."""
    response["ETag"] = page.etag
    response["Last-Modified"] = http_date(page.modified)
    if "Cache-Control" not in response:
        # Browsers and proxies may keep it but must ask again; per-reader pages stay private.
        patch_cache_control(
            response, no_cache=True, **{"private" if page.per_reader else "public": True}
        )
    return response


def may_use(request):
    """Whether this request may be answered with (or fill) a shared kept page."""
    return (
        request.method in ("GET", "HEAD")
        and settings.PAGE_CACHE_SECONDS > 0
        and set(request.COOKIES) <= {settings.CSRF_COOKIE_NAME}
        and "HTTP_AUTHORIZATION" not in request.META
    )


def may_keep(response):
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = response.get("Cache-Control", "").lower()
    if any(word in cache_control for word in ("private", "no-store", "no-cache", "max-age=0")):
        return False
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
    return vary <= KEPT_VARY


# Building one page may keep half a dozen fragments: while a request is being answered, the
# moment the next scheduled story goes live is read once (see `connect_signals`).
_this_request = threading.local()


def _request_started(**kwargs):
    _this_request.__dict__.clear()
    _this_request.answering = True


def _request_finished(**kwargs):
    _this_request.__dict__.clear()


def next_go_live(now):
    """When the next scheduled story goes live, or None."""
    if getattr(_this_request, "answering", False) and "next_live" in _this_request.__dict__:
        return _this_request.next_live
    from django.db.models import Min

    from articles.models import Article

    next_live = Article.objects.filter(
        status__in=Article.LIVE_STATUSES, published_at__gt=now
    ).aggregate(at=Min("published_at"))["at"]
    if getattr(_this_request, "answering", False):
        _this_request.next_live = next_live
    return next_live


def seconds_to_keep(limit=None):
    """`limit` (PAGE_CACHE_SECONDS by default), cut short when a scheduled story goes live
    sooner: no story's going live waits for a kept page or fragment to expire."""
    from django.utils import timezone

    now = timezone.now()
    next_live = next_go_live(now)
    seconds = settings.PAGE_CACHE_SECONDS if limit is None else limit
    if next_live is not None:
        seconds = min(seconds, max(1, int((next_live - now).total_seconds())))
    return seconds


def page_key(request):
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return PAGE_KEY.format(hashlib.sha256(url.encode()).hexdigest())


def conditional(request, page, response):
    # A page with a CSRF token may be reused only by the browser whose cookie it was made for.
    if page.per_reader and settings.CSRF_COOKIE_NAME not in request.COOKIES:
        return response
    return get_conditional_response(
        request, etag=page.etag, last_modified=page.modified, response=response
    )


class PageCacheMiddleware:
    """Serve and keep anonymous pages (see the module docstring). Goes after the CSRF middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not may_use(request):
            return self.get_response(request)
        key = page_key(request)
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY) or current_version()
        page = found.get(key)
        if version is not None and page is not None and page.version == version:
            return conditional(request, page, stamp(page.response_for(request), page))

        response = self.get_response(request)
        if version is None or not may_keep(response):
            return response
        page = KeptPage.from_response(response, version)
        cache.set(key, page, seconds_to_keep())
        return conditional(request, page, stamp(response, page))
