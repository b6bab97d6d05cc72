"""What search engines, feed readers and link previews see of a page: the share image,
canonical URLs, breadcrumbs and schema.org JSON-LD, built as plain dicts and lists."""

import json
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

SHARE_WIDTH = 1200  # what Open Graph and most chat apps ask for
# The characters that could end a <script> element or start a comment, as JSON escapes
# (exactly what django.utils.html.json_script does).
JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str


def author_name(article):
    return article.author.get_full_name() or article.author.get_username()


def share_rendition(article):
    """The hero rendition to share: the widest up to SHARE_WIDTH px, else the smallest."""
    renditions = article.hero_renditions or []
    fitting = [rendition for rendition in renditions if rendition["width"] <= SHARE_WIDTH]
    if fitting:
        return fitting[-1]
    return renditions[0] if renditions else None


def share_image(article, request):
    rendition = share_rendition(article)
    if rendition is None:
        return None
    return {
        "url": request.build_absolute_uri(default_storage.url(rendition["name"])),
        "width": rendition["width"],
        "height": rendition["height"],
        "alt": article.hero_alt,
    }


def canonical_url(request, path=None, page=None):
    """Scheme, host and path only (no tracking or junk query strings), plus ?page=N past page 1."""
    url = request.build_absolute_uri(path or request.path)
    return f"{url}?page={page}" if page and page > 1 else url


def breadcrumbs(objects):
    """Home, then each object by its name and URL."""
    home = Crumb("Home", reverse("articles:home"))
    return [home, *(Crumb(str(obj), obj.get_absolute_url()) for obj in objects)]


def breadcrumb_list(crumbs, request):
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": position,
                "name": crumb.name,
                "item": request.build_absolute_uri(crumb.url),
            }
            for position, crumb in enumerate(crumbs, start=1)
        ],
    }


def publisher(request):
    return {
        "@type": "Organization",
        "name": settings.SITE_NAME,
        "url": request.build_absolute_uri(reverse("articles:home")),
    }


def news_article(article, request):
    url = request.build_absolute_uri(article.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "headline": article.title,
        "description": article.standfirst,
        "articleSection": article.section.name,
        "author": [{"@type": "Person", "name": author_name(article)}],
        "publisher": publisher(request),
        "dateModified": _iso(article.last_modified),
    }
    if article.published_at:
        data["datePublished"] = _iso(article.published_at)
    image = share_image(article, request)
    if image:
        data["image"] = [
            {
                "@type": "ImageObject",
                "url": image["url"],
                "width": image["width"],
                "height": image["height"],
            }
        ]
    return data


def json_ld(data):
    """A JSON-LD <script> whose content no reader or editor text can close or break out of."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(
        JSON_SCRIPT_ESCAPES
    )
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(text),  # noqa: S308 - <, > and & are JSON-escaped above
    )


def _iso(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds")
