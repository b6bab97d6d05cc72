import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control

from .clients import is_trusted_proxy, parse_ip
from .views import healthz

logger = logging.getLogger(__name__)

# Powerful browser features no page of ours uses, off for every page and anything it embeds.
# Only features browsers recognise: an unknown name is logged as a console error.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
)


def is_health_probe(request):
    """Whether a request is a probe of this app server itself, not a client's request: GET or
    HEAD /healthz (the contract's path) from a trusted proxy address (NEWSROOM_TRUSTED_PROXIES:
    Varnish's probe, a load balancer) that carries no X-Forwarded-Proto, i.e. was not passed on
    for a client."""
    if request.path_info != "/healthz" or "HTTP_X_FORWARDED_PROTO" in request.META:
        return False
    peer = parse_ip(request.META.get("REMOTE_ADDR", ""))
    return peer is not None and is_trusted_proxy(peer)


class HealthProbeMiddleware:
    """Answers a health probe of the app server (is_health_probe) sent over plain HTTP before
    Django's HTTPS redirect would send it away, so Varnish and load balancers can ask gunicorn
    directly. Put it just before SecurityMiddleware. Everything that comes through the public
    proxy, /healthz included, is redirected to HTTPS when it arrived over plain HTTP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SECURE_SSL_REDIRECT and not request.is_secure() and is_health_probe(request):
            return healthz(request)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """The security headers Django does not set itself (a view may set its own first), and the
    rule that a response setting a cookie is never kept by a shared cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if response.cookies and "no-store" not in response.get("Cache-Control", ""):
            patch_cache_control(response, private=True)
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request body over REQUEST_MAX_BYTES before anything reads it.

    Django limits form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but not uploaded files; this caps
    the whole body, uploads included.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_MAX_BYTES:
            context = {"limit_mb": settings.REQUEST_MAX_BYTES // (1024 * 1024)}
            return TemplateResponse(request, "413.html", context, status=413).render()
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """When the database cannot be reached, answer a styled 503 page instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)) or (
            isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
        ):
            logger.error("Database unavailable: %s", type(exception).__name__)
            posted = request.method not in ("GET", "HEAD")
            response = TemplateResponse(request, "503.html", {"posted": posted}, status=503)
            response["Retry-After"] = "30"
            return response.render()
        return None
