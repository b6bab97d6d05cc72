"""The front cache: one small interface to purge by tag, named by NEWSROOM_FRONT_CACHE.

- unset: no front cache (nothing to purge);
- ``varnish://HOST:PORT``: Varnish with the xkey module (deploy/varnish/newsroom.vcl): a
  ``PURGE`` request with an ``xkey-purge`` header listing the tags;
- ``fastly://SERVICE_ID``: Fastly's purge by surrogate key (POST /service/ID/purge with a
  ``Surrogate-Key`` header), the token from ``FASTLY_API_TOKEN``;
- ``cloudflare://ZONE_ID``: Cloudflare's purge by cache tag (POST /zones/ID/purge_cache with
  ``{"tags": [...]}``), the token from ``CLOUDFLARE_API_TOKEN``.

``?api=http://127.0.0.1:PORT`` after a CDN's URL sends its calls to another address (tests use a
local server that records them). Each purger also names the response header the front cache
reads tags from (`tag_header`) and how it joins them. A purge that fails is logged and never
breaks the change that caused it: the front cache then serves the old copy until it expires.

Every public response also carries `SITE_TAG`, so one purge of it (`purge_everything`) drops
every page the front cache keeps. An app server that starts with another release than the one
the front cache was last purged for does that before it serves (`purge_previous_release`,
called by the WSGI and ASGI entry points): a deploy leaves no page of the previous release at
the edge, as the release in every key of the app's own store leaves none there.
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

    def purge(self, tags):
        """Nothing to purge: True (as a front cache that confirmed the purge would answer)."""
        return True

    def header_value(self, tags):
        return self.separator.join(sorted(tags))


class HTTPPurger(NoFrontCache):
    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")

    def purge(self, tags):
        """Purge `tags` (strings), BATCH to a call: True when every call was answered 2xx,
        False when any failed (each failure logged; the other batches are still sent)."""
        tags = sorted(tags)
        results = [self.send(tags[start : start + BATCH]) for start in range(0, len(tags), BATCH)]
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
    """Varnish with vmod xkey: PURGE / with `xkey-purge: tag tag ...`."""

    def send(self, tags):
        return self.request("/", method="PURGE", headers={"xkey-purge": " ".join(tags)}) is not None


class FastlyPurger(HTTPPurger):
    """Fastly: POST /service/{id}/purge with `Surrogate-Key: tag tag ...` (space-separated)."""

    tag_header = "Surrogate-Key"

    def __init__(self, base_url, service_id, token):
        super().__init__(base_url)
        self.service_id, self.token = service_id, token

    def send(self, tags):
        status = self.request(
            f"/service/{self.service_id}/purge",
            headers={"Fastly-Key": self.token, "Surrogate-Key": " ".join(tags)},
        )
        return status is not None


class CloudflarePurger(HTTPPurger):
    """Cloudflare: POST /client/v4/zones/{id}/purge_cache {"tags": [...]}; tags in `Cache-Tag`,
    comma-separated."""

    tag_header = "Cache-Tag"
    separator = ","

    def __init__(self, base_url, zone_id, token):
        super().__init__(base_url)
        self.zone_id, self.token = zone_id, token

    def send(self, tags):
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


def purge_everything():
    """Purge every page of this site the configured front cache keeps (they all carry
    SITE_TAG). True when the front cache confirmed it, or there is none; False when it failed
    (logged, never raised)."""
    return purger().purge({SITE_TAG})


def purge_previous_release(release=RELEASE):
    """Called once as an app server starts, before it serves: when the release the front cache
    was last purged for (recorded in the shared cache, for each NEWSROOM_FRONT_CACHE) is not
    `release` (a string; the running code's RELEASE), or none is recorded, purge everything
    and record `release` once the purge succeeded.

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
        if not purge_everything():
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
