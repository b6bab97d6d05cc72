"""{% live_blog article %}: a live story's entries, key events and status (articles/live.py)."""

from django import template

from articles.models import LiveEntry

register = template.Library()

SHOWN_ENTRIES = 300  # a whole race day of entries; older ones stay in the database


def live_context(article):
    """What templates/articles/live/blog.html and entries.html show: the entries (newest
    first), the key events among them, and when the coverage last changed."""
    entries = list(LiveEntry.objects.for_story(article)[:SHOWN_ENTRIES])
    moments = [article.live_started_at, article.live_ended_at]
    moments += [entry.updated_at for entry in entries]
    return {
        "article": article,
        "entries": entries,
        "key_events": [entry for entry in entries if entry.key_event],
        "last_id": max((entry.pk for entry in entries), default=0),
        "last_updated": max(filter(None, moments), default=None),
    }


@register.inclusion_tag("articles/live/blog.html")
def live_blog(article):
    if article.live_started_at is None:
        return {"article": article, "hidden": True}
    return live_context(article)


@register.simple_tag
def provisional_events(events):
    """The pks of the events among `events` whose results are still provisional, joined by
    commas ("" when none): what a page's live results regions follow."""
    return ",".join(str(event.pk) for event in events if not event.results_official)
