"""Site-wide addresses the articles app serves without its namespace (the spec's /search/ and
/sitemap.xml, reversed as "search" and "sitemap-..."), included by newsroom/urls.py."""

from django.urls import path

from . import sitemaps
from .search_views import SearchView
from .sitemaps import SITEMAPS, NewsSitemap

urlpatterns = [
    path(
        "sitemap.xml",
        sitemaps.index,
        {
            "sitemaps": SITEMAPS,
            "sitemap_url_name": "sitemap-section",
            "template_name": "sitemaps/index.xml",
        },
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
]
