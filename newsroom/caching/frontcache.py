"""The front cache: one small interface to purge by tag, named by NEWSROOM_FRONT_CACHE.

- unset: no front cache (nothing to purge);
- ``varnish://HOST:PORT``: Varnish with the xkey module (deploy/varnish/newsroom.vcl): a
  ``PURGE`` request with an ``xkey-purge`` header listing the tags (``xkey-softpurge`` for a
  soft purge);
- ``fastly://SERVICE_ID``: Fastly's purge by surrogate key (POST /service/ID/purge with a
  ``Surrogate-Key`` header; ``Fastly-Soft-Purge: 1`` for a soft purge), the token from
  ``FASTLY_API_TOKEN``;
- ``cloudflare://ZONE_ID``: Cloudflare's purge by cache tag (POST /zones/ID/purge_cache with
  ``{"tags": [...]}``; it has no soft purge), the token from ``CLOUDFLARE_API_TOKEN``.

A soft purge marks the pages stale instead of dropping them: the next reader gets a fresh copy,
but while the app cannot answer the front cache still serves the stale one (stale-if-error).

``?api=http://127.0.0.1:PORT`` after a CDN's URL sends its calls to another address (tests use a
local server that records them). Each purger also names the response header the front cache
reads tags from (`tag_header`) and how it joins them. A purge that fails is logged and never
breaks the change that caused it: the front cache then serves the old copy until it expires.

Every public response also carries `SITE_TAG`, so one purge of it (`purge_everything`) drops
every page the front cache keeps. An app server that starts with another release than the one
the front cache was last purged for does that, softly, before it serves
(`purge_previous_release`: gunicorn once it listens, newsroom/gunicorn_conf.py; other servers
as they import the WSGI or ASGI entry point): a deploy leaves no page of the previous release
at the edge, as the release in every key of the app's own store leaves none there, and pages
kept there are still served while the new server cannot answer yet.
"""

import hashlib
import json
import logging
import os
import urllib.error
import urllib.request
from functools import cache
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.cache import cache as shared_cache

from .release import RELEASE

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2
BATCH = 30  # tags per call: Cloudflare takes at most 30 a call; headers stay short
SITE_TAG = "site"  # on every public response: purging it empties the front cache of this site
# In the shared cache: the release the front cache was last purged for, and who is purging it.
PURGED_FOR_KEY = "front-cache-release:{}"
PURGING_KEY = "front-cache-purging:{}:{}"
PURGING_SECONDS = 60  # a process that dies while purging holds the others back this long


class NoFrontCache:
    """No front cache: tags are still sent in `xkey` (harmless, and handy to look at)."""

    tag_header = "xkey"
    separator = " "

    def purge(self, tags, *, soft=False):
        """Nothing to purge: True (as a front cache that confirmed the purge would answer)."""
        return True

    def header_value(self, tags):
        return self.separator.join(sorted(tags))


class HTTPPurger(NoFrontCache):
    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")

    def purge(self, tags, *, soft=False):
        """Purge `tags` (strings), BATCH to a call: True when every call was answered 2xx,
        False when any failed (each failure logged; the other batches are still sent). `soft`:
        mark the pages stale instead of dropping them, where the front cache can."""
        tags = sorted(tags)
        batches = [tags[start : start + BATCH] for start in range(0, len(tags), BATCH)]
        results = [self.send(batch, soft=soft) for batch in batches]
        return all(results)

    def request(self, path, *, method="POST", headers=None, body=None):
        """One call to the front cache's purge API: its HTTP status, or None when it failed
        (unreachable, timed out, an error status; logged)."""
        request = urllib.request.Request(  # noqa: S310 - our own configured http(s) URL
            self.base_url + path, data=body, headers=headers or {}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.status
        except (urllib.error.URLError, OSError) as error:
            logger.warning("Front cache purge failed (%s): %s", type(self).__name__, error)
            return None


class VarnishPurger(HTTPPurger):
    """Varnish with vmod xkey: PURGE / with `xkey-purge: tag tag ...` (`xkey-softpurge`: soft)."""

    def send(self, tags, *, soft=False):
        header = "xkey-softpurge" if soft else "xkey-purge"
        return self.request("/", method="PURGE", headers={header: " ".join(tags)}) is not None


class FastlyPurger(HTTPPurger):
    """Fastly: POST /service/{id}/purge with `Surrogate-Key: tag tag ...` (space-separated)."""

    tag_header = "Surrogate-Key"

    def __init__(self, base_url, service_id, token):
        super().__init__(base_url)
        self.service_id, self.token = service_id, token

    def send(self, tags, *, soft=False):
        headers = {"Fastly-Key": self.token, "Surrogate-Key": " ".join(tags)}
        if soft:
            headers["Fastly-Soft-Purge"] = "1"
        status = self.request(f"/service/{self.service_id}/purge", headers=headers)
        return status is not None


class CloudflarePurger(HTTPPurger):
    """Cloudflare: POST /client/v4/zones/{id}/purge_cache {"tags": [...]}; tags in `Cache-Tag`,
    comma-separated. Cloudflare has no soft purge: `soft` is a hard purge there."""

    tag_header = "Cache-Tag"
    separator = ","

    def __init__(self, base_url, zone_id, token):
        super().__init__(base_url)
        self.zone_id, self.token = zone_id, token

    def send(self, tags, *, soft=False):
        status = self.request(
            f"/client/v4/zones/{self.zone_id}/purge_cache",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            body=json.dumps({"tags": tags}).encode(),
        )
        return status is not None


def from_url(url):
    """The purger NEWSROOM_FRONT_CACHE names; ValueError for a scheme it does not know."""
    if not url:
        return NoFrontCache()
    parts = urlsplit(url)
    api = parse_qs(parts.query).get("api", [None])[0]
    if parts.scheme == "varnish":
        return VarnishPurger(f"http://{parts.netloc}")
    if parts.scheme == "fastly":
        token = os.environ.get("FASTLY_API_TOKEN", "")
        return FastlyPurger(api or "https://api.fastly.com", parts.netloc, token)
    if parts.scheme == "cloudflare":
        token = os.environ.get("CLOUDFLARE_API_TOKEN", "")
        base = api or "https://api.cloudflare.com"
        return CloudflarePurger(base, parts.netloc, token)
    raise ValueError(
        f"NEWSROOM_FRONT_CACHE={url!r}: use varnish://HOST:PORT, fastly://SERVICE_ID or "
        "cloudflare://ZONE_ID."
    )


@cache
def _purger_for(url):
    return from_url(url)


def purger():
    """The configured purger (settings.FRONT_CACHE)."""
    return _purger_for(settings.FRONT_CACHE)


def name_tags(response, tags):
    """Name what `response` (a public HttpResponse) shows for the front cache: `tags`
    (strings) and SITE_TAG, in the header the configured front cache reads. Returns it."""
    configured = purger()
    response[configured.tag_header] = configured.header_value({*tags, SITE_TAG})
    return response


def purge_everything(*, soft=False):
    """Purge every page of this site the configured front cache keeps (they all carry
    SITE_TAG); `soft`: mark them stale instead, where the front cache can (HTTPPurger.purge).
    True when the front cache confirmed it, or there is none; False when it failed (logged,
    never raised)."""
    return purger().purge({SITE_TAG}, soft=soft)


def purge_previous_release(release=RELEASE):
    """Called once as an app server starts, before it serves (gunicorn: once it listens, see
    newsroom/gunicorn_conf.py): when the release the front cache was last purged for (recorded
    in the shared cache, for each NEWSROOM_FRONT_CACHE) is not `release` (a string; the running
    code's RELEASE), or none is recorded, purge everything softly and record `release` once the
    purge succeeded. Soft, so that a page kept there is still served (stale-if-error) while no
    server of the new release answers, instead of a 503; the next reader once one answers gets
    the new release's page (Varnish: deploy/varnish/newsroom.vcl; Fastly: the first reader
    within stale-while-revalidate may get the stale one; Cloudflare: a hard purge).

    Processes starting together purge once: the first takes a claim for `release` in the
    shared cache (PURGING_SECONDS) and the others leave it to that one; with the cache
    unreachable each purges once and records nothing. A failed purge is logged, releases the
    claim and records nothing, so the next start tries again. Never raises: the server starts
    whatever happens here. Returns True when this call purged the front cache."""
    try:
        name = hashlib.sha256(settings.FRONT_CACHE.encode()).hexdigest()[:16]
        if shared_cache.get(PURGED_FOR_KEY.format(name)) == release:
            return False
        claim = PURGING_KEY.format(name, release)
        if not shared_cache.add(claim, True, PURGING_SECONDS) and shared_cache.get(claim):
            return False  # another process is purging for this release
        if not purge_everything(soft=True):
            shared_cache.delete(claim)
            logger.warning(
                "Front cache not purged for release %s: it may serve the last one's "
                "pages until they expire (manage.py purge_front_cache)",
                release,
            )
            return False
        shared_cache.set(PURGED_FOR_KEY.format(name), release, None)
    except Exception:  # the cache or the front cache failing: logged, the server still starts
        logger.exception("Front cache not purged for release %s", release)
        return False
    logger.info("Front cache purged for release %s", release)
    return True
