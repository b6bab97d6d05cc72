"""Template tags for comments: each only calls comments.display, where what readers see of
comments is decided."""

from django import template

from comments import display

register = template.Library()


@register.filter
def comment_meta(comment):
    """A comment's avatar, author and date (see comments.display)."""
    return display.comment_meta(comment)


@register.filter
def comment_body(text):
    """A plain-text comment as HTML (see comments.display.comment_body)."""
    return display.comment_body(text)


@register.inclusion_tag("comments/once_published.html")
def comments_once_published(article):
    """For an editor's preview of a story readers cannot see yet: whether readers will be able
    to comment once it is published (the form is not shown: there is nothing to post to)."""
    return display.once_published(article)


@register.simple_tag(takes_context=True)
def comment_section(context, article):
    """The comments under a story: approved threads, this browser's waiting ones in place, the
    form (see comments.display.section_html)."""
    return display.section_html(context, article)


@register.simple_tag
def comment_feed_url(article, kind="rss"):
    """The address of a story's comments feed, "rss" or "atom"."""
    return display.feed_url(article, kind)
