"""A story's public comments as a feed (RSS 2.0 and Atom): the latest ITEMS, newest first.

Public like the story (kept by every cache, tagged with the story and its thread tag, so a
newly approved comment shows once the tag is purged); 404 for a story readers cannot see. Only
what the page shows of a comment: its author's name, never an address or a hash of one."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_safe

from articles.feeds import xml_safe_values
from articles.models import Article
from newsroom import dates
from newsroom.caching import declare

from .caching import thread_tag
from .models import Comment

ITEMS = 50


class StoryCommentsFeed(Feed):
    """RSS 2.0 of one story's public comments, at /stories/<slug>/comments/feed/."""

    feed_type = dates.Rss

    @method_decorator(require_safe)
    def __call__(self, request, *args, **kwargs):
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request, slug):
        return get_object_or_404(Article.objects.published(), slug=slug)

    def items(self, article):
        declare(thread_tag(article.pk))
        comments = Comment.objects.filter(article=article).public().for_display()
        return list(comments.order_by("-created_at", "-pk")[:ITEMS])

    def title(self, article):
        return f"{settings.SITE_NAME}: comments on “{article.title}”"

    def link(self, article):
        return f"{article.get_absolute_url()}#comments"

    def description(self, article):
        return f"The latest comments readers wrote on “{article.title}”."

    def subtitle(self, article):
        return self.description(article)

    def item_title(self, comment):
        return f"Comment by {comment.name}"

    def item_description(self, comment):
        # The stored HTML of the body (escaped, links made safe: comments.rendering).
        if comment.body_is_stale:  # rendered by an older release: the threads store it again
            comment.render_body()
        return comment.body_html

    def item_link(self, comment):
        return comment.get_absolute_url()

    def item_author_name(self, comment):
        return comment.name

    def item_pubdate(self, comment):
        return dates.feed_time(comment.created_at)

    def get_feed(self, obj, request):
        """The feed with every text made fit for XML (a reader may have typed anything)."""
        feed = super().get_feed(obj, request)
        feed.feed = xml_safe_values(feed.feed)
        feed.items = [xml_safe_values(item) for item in feed.items]
        return feed


class StoryCommentsAtomFeed(StoryCommentsFeed):
    """Atom of one story's public comments, at /stories/<slug>/comments/feed/atom/."""

    feed_type = dates.Atom
