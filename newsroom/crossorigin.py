"""Cross-origin request protection by Fetch Metadata, for requests that carry no CSRF token.

The rule is Go's net/http CrossOriginProtection (Go 1.25) and Filippo Valsorda's "CSRF"
write-up: a browser says where a request comes from. A request that is not GET, HEAD or OPTIONS
is refused when its `Sec-Fetch-Site` is anything but `same-origin` or `none` (typed or
bookmarked); a browser too old to send it sends `Origin`, which must then name this site (or
one of CSRF_TRUSTED_ORIGINS). A request with neither header is no browser's cross-site
request (curl, a test client) and passes. Django's token CSRF still applies on top wherever a
session exists (see comments.views), so the admin keeps both.
"""

from urllib.parse import urlsplit

from django.conf import settings

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
REASON = "The form was sent from another site."


def is_same_origin(request):
    """Whether an unsafe request may be trusted to come from this site's own pages."""
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return True
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    return (
        origin != "null"
        and parts.scheme == request.scheme
        and parts.netloc.lower() == request.get_host().lower()
    )


class CrossOriginProtectionMiddleware:
    """Refuse cross-origin unsafe requests with the CSRF failure page (403)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS and not is_same_origin(request):
            from newsroom.views import csrf_failure

            return csrf_failure(request, reason=REASON)
        return self.get_response(request)
