from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("media/<path:path>", views.media, name="media"),
    path("", include("articles.site_urls")),
    path("", include("comments.urls")),
    path("", include("articles.urls")),
]

if settings.BENCH:
    # The benchmark's ceiling: the same server and middleware, no template, no query.
    urlpatterns.append(path("bench/ceiling", views.bench_ceiling))

handler400 = "newsroom.views.bad_request"
handler403 = "newsroom.views.permission_denied"
handler404 = "newsroom.views.page_not_found"
handler500 = "newsroom.views.server_error"
