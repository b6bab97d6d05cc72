"""What search engines, feed readers and link previews see of a page: the share image,
canonical URLs, breadcrumbs and schema.org JSON-LD, built as plain dicts and lists."""

import json
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from newsroom.dates import machine_time

from . import live

SHARE_WIDTH = 1200  # what Open Graph and most chat apps ask for
# The characters that could end a <script> element or start a comment, as JSON escapes
# (exactly what django.utils.html.json_script does).
JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str


def author_name(article):
    """The byline as text: "A", "A and B", "A, B and C" (display names, never a login)."""
    names = [author.name for author in article.credits]
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]]))


def authors(article, request):
    """The story's authors as schema.org Persons, with their author page where they have one."""
    return [
        {"@type": "Person", "name": author.name}
        | ({"url": request.build_absolute_uri(author.get_absolute_url())} if author.pk else {})
        for author in article.credits
    ]


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


def breadcrumbs(items):
    """Home, then each item: a Crumb as given, or an object by its name and URL."""
    home = Crumb("Home", reverse("articles:home"))
    return [
        home,
        *(
            item if isinstance(item, Crumb) else Crumb(str(item), item.get_absolute_url())
            for item in items
        ),
    ]


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
        "author": authors(article, request),
        "publisher": publisher(request),
        "dateModified": machine_time(article.last_modified),
    }
    corrections = [
        {
            "@type": "CorrectionComment",
            "text": note.text,
            "datePublished": machine_time(note.created_at),
        }
        for note in article.notes
    ]
    if corrections:
        data["correction"] = corrections
    data.update(live.json_ld_fields(article, url))  # a live story is a LiveBlogPosting
    if article.published_at:
        data["datePublished"] = machine_time(article.published_at)
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


def sports_event(event, results, request):
    """SportsEvent with its competitors in finishing order, plus the results as an ItemList."""
    url = request.build_absolute_uri(event.get_absolute_url())
    competition = event.competition
    athletes = {
        result.athlete_id: {
            "@type": "Person",
            "@id": request.build_absolute_uri(result.athlete.get_absolute_url()),
            "name": result.athlete.name,
            "nationality": {"@type": "Country", "name": result.athlete.nation.name},
        }
        for result in results
    }
    data = {
        "@type": "SportsEvent",
        "@id": f"{url}#event",
        "url": url,
        "name": f"{event.sport}: {event.name}, {competition.name}",
        "sport": event.sport,
        "startDate": machine_time(event.starts_at),
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": {
            "@type": "Place",
            "name": event.venue or competition.place or competition.name,
            "address": competition.place or event.venue or competition.name,
        },
        "superEvent": {
            "@type": "SportsEvent",
            "name": competition.name,
            "url": request.build_absolute_uri(competition.get_absolute_url()),
            "startDate": machine_time(competition.starts_on),
            "endDate": machine_time(competition.ends_on),
        },
        "competitor": list(athletes.values()),
    }
    standings = {
        "@type": "ItemList",
        "name": f"{event.results_label}: {event.sport}, {event.name}, {competition.name}",
        "url": f"{url}#results-table",
        "itemListOrder": "https://schema.org/ItemListOrderAscending",
        "numberOfItems": len(results),
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": position,
                "name": _standing(result),
                "item": {"@id": athletes[result.athlete_id]["@id"]},
            }
            for position, result in enumerate(results, start=1)
        ],
    }
    return {"@context": "https://schema.org", "@graph": [data, standings] if results else [data]}


def _standing(result):
    """'1. Jutta Leerdam (NED) 1:12.31 OR' or 'Jane Doe (USA) DNF'."""
    athlete = f"{result.athlete.name} ({result.athlete.nation.code})"
    if result.status != result.Status.FINISHED:
        return f"{athlete} {result.status}"
    return " ".join(filter(None, [f"{result.rank}. {athlete}", result.time, result.notes]))


def json_ld(data):
    """A JSON-LD <script> whose content no reader or editor text can close or break out of."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(
        JSON_SCRIPT_ESCAPES
    )
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(text),  # noqa: S308 - <, > and & are JSON-escaped above
    )
