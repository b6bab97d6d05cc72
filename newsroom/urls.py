from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from articles import sitemaps
from articles.search_views import SearchView
from articles.sitemaps import SITEMAPS, NewsSitemap

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("media/<path:path>", views.media, name="media"),
    path(
        "sitemap.xml",
        sitemaps.index,
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap-index",
    ),
    path(
        "sitemap-news.xml",
        sitemaps.sitemap,
        {"sitemaps": {"news": NewsSitemap}, "template_name": "sitemaps/news.xml"},
        name="sitemap-news",
    ),
    path(
        "sitemap-<section>.xml",
        sitemaps.sitemap,
        {"sitemaps": SITEMAPS, "template_name": "sitemaps/sitemap.xml"},
        name="sitemap-section",
    ),
    path("search/", SearchView.as_view(), name="search"),
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
