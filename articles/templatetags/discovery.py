"""Template tags for what search engines and link previews read: canonical URLs, share images,
JSON-LD, breadcrumbs and related stories. The data itself is built in articles/previews.py."""

from django import template

from articles import previews
from articles.models import Article

register = template.Library()


@register.simple_tag(takes_context=True)
def canonical_url(context, path=None):
    page_obj = context.get("page_obj")
    return previews.canonical_url(
        # `is not None`: the truth of a page is its length, a query for the page's stories.
        context["request"],
        path,
        page=page_obj.number if page_obj is not None else None,
    )


@register.simple_tag(takes_context=True)
def share_image(context, article):
    return previews.share_image(article, context["request"]) if article else None


@register.simple_tag(takes_context=True)
def news_article_json_ld(context, article):
    return previews.json_ld(previews.news_article(article, context["request"]))


@register.inclusion_tag("partials/breadcrumbs.html", takes_context=True)
def breadcrumbs(context, *items):
    """Home › each object or crumb given, the last one being the current page."""
    crumbs = previews.breadcrumbs(items)
    return {
        "crumbs": crumbs,
        "json_ld": previews.json_ld(previews.breadcrumb_list(crumbs, context["request"])),
    }


@register.inclusion_tag("partials/related.html")
def related_stories(article):
    return {"related": Article.objects.related_to(article)}


@register.simple_tag
def crumb(name, url):
    """A breadcrumb for a page that is no single object: `{% crumb "Results" url as c %}`."""
    return previews.Crumb(str(name), str(url))


@register.simple_tag(takes_context=True)
def sports_event_json_ld(context, event, results):
    return previews.json_ld(previews.sports_event(event, results, context["request"]))
