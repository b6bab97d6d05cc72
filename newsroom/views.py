import os

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


@require_safe
@cache_control(max_age=3600, public=True)
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap-index"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /search/", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_safe
def favicon(request):
    """For clients that ask for /favicon.ico without reading the page's icon link."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)


def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)


MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}


@require_safe
def media(request, path):
    """Uploaded images, from any storage backend, with a fixed safe type and `nosniff`. A name the
    storage cannot open, whatever the reason (missing, a folder, too long, a NUL byte, a loop,
    no permission: every OSError), is a 404."""
    content_type = MEDIA_TYPES.get(os.path.splitext(path)[1].lower())
    if content_type is None:
        raise Http404
    try:
        file = default_storage.open(path)
    except (OSError, SuspiciousFileOperation, ValueError) as error:
        raise Http404 from error
    response = FileResponse(file, content_type=content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Hero images are public and travel in feeds and link previews: other sites may embed them.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def bench_ceiling(request):
    """A fixed response: what the site's stack costs with no work at all (NEWSROOM_BENCH only)."""
    return HttpResponse(b"ceiling", content_type="text/plain")
