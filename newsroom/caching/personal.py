"""The one definition of a request personal to one browser.

A personal request may see what only that browser should (a session's user, a reader's own
pending comments or saved details, a message), so its response is built for it alone and never
kept by a shared cache. The front cache's configuration (deploy/varnish/newsroom.vcl) passes
requests with the same cookies; tests/test_front_cache.py checks that the two lists agree.
"""

from django.conf import settings

SAFE_METHODS = ("GET", "HEAD")
# Apps add the cookies that make a request personal (comments: a reader's pending comments and
# saved details) in their AppConfig.ready().
_personal_cookies = set()
# Those of them that change nothing of a page but its holes (see holes.py).
_hole_cookies = set()


def register_personal_cookie(name, *, holes=False):
    """Make requests carrying the cookie `name` (its __Host- form too) personal. `holes`: what
    the cookie changes is only ever built inside holes (newsroom.caching.holes), and whoever
    reads it calls holes.note_personal_read() first."""
    names = {name, f"__Host-{name}"}
    _personal_cookies.update(names)
    if holes:
        _hole_cookies.update(names)


def personal_cookie_names():
    """Every cookie name that makes a request personal (a set of strings)."""
    return {
        settings.SESSION_COOKIE_NAME,
        "sessionid",
        "__Host-sessionid",
        "messages",
        *_personal_cookies,
    }


def has_session(request):
    """Whether the browser has a session (a signed-in user or someone who started to sign in)."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def _personal_whatever_its_cookies(request):
    """Anything but GET and HEAD, or a request with credentials."""
    return request.method not in SAFE_METHODS or "HTTP_AUTHORIZATION" in request.META


def is_personal(request):
    """Whether the response to `request` may differ from browser to browser: anything but GET
    and HEAD, a request with credentials, or one that carries a personal cookie."""
    return _personal_whatever_its_cookies(request) or not personal_cookie_names().isdisjoint(
        request.COOKIES
    )


def personal_only_in_holes(request):
    """Whether `request` is personal (see `is_personal`) only through cookies that change
    nothing but a page's holes: a GET or HEAD without credentials, whose personal cookies are
    all registered with holes=True. Its page may be the kept public one with its holes filled."""
    if _personal_whatever_its_cookies(request):
        return False
    personal = personal_cookie_names().intersection(request.COOKIES)
    return bool(personal) and personal <= _hole_cookies
