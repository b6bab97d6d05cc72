"""RSS 2.0 and Atom feeds of published stories: the whole site, one section, one tag."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.feedgenerator import Enclosure
from django.utils.html import escape
from django.views.decorators.http import require_safe

from newsroom import dates
from newsroom.caching import declare
from newsroom.xmltext import xml_safe

from .models import Article, Section, Tag
from .models.results import RESULTS_STAMP_TAG
from .previews import author_name, share_rendition

ITEMS = 30


def xml_safe_values(value):
    """Every string in a feed's (nested) values with the characters XML 1.0 forbids removed."""
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, dict):
        return {key: xml_safe_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(xml_safe_values(item) for item in value)
    return value


class RssWithContent(dates.Rss):
    """RSS 2.0 plus the story's full HTML in <content:encoded>."""

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
        }

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content:encoded", item["content"])


class AtomWithContent(dates.Atom):
    """Atom with the story's full HTML in <content type="html">."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content"], {"type": "html"})


class StoryFeed(Feed):
    """The latest published stories. Subclasses narrow `stories()` and describe themselves."""

    feed_type = RssWithContent

    @method_decorator(require_safe)
    def __call__(self, request, *args, **kwargs):
        return super().__call__(request, *args, **kwargs)

    def stories(self, obj):
        return (
            Article.objects.published()
            .select_related("section")
            .with_credits()
            .prefetch_related("tags", "corrections")
        )

    def items(self, obj):
        declare(RESULTS_STAMP_TAG)  # each story's updated time moves with its results
        return self.stories(obj).order_by("-published_at", "-pk")[:ITEMS]

    def title(self, obj):
        return f"{settings.SITE_NAME}: latest stories"

    def link(self, obj):
        return reverse("articles:home")

    def description(self, obj):
        return f"The latest sports stories and results from {settings.SITE_NAME}."

    def subtitle(self, obj):
        return self.description(obj)

    def item_title(self, article):
        return article.title

    def item_description(self, article):
        # RSS <description> and Atom <summary type="html"> are HTML; the standfirst is text.
        return escape(article.standfirst)

    def item_author_name(self, article):
        return author_name(article)

    def item_pubdate(self, article):
        return dates.feed_time(article.published_at)

    def item_updateddate(self, article):
        return dates.feed_time(article.last_modified)

    def item_categories(self, article):
        return [article.section.name, *(tag.name for tag in article.tags.all())]

    def item_enclosures(self, article):
        rendition = share_rendition(article)
        if rendition is None:
            return []
        try:
            length = default_storage.size(rendition["name"])
        except OSError:
            length = 0
        return [Enclosure(default_storage.url(rendition["name"]), str(length), "image/webp")]

    def item_extra_kwargs(self, article):
        notes = render_to_string("partials/story_notes.html", {"article": article})
        return {"content": article.rendered_body + notes}

    def get_feed(self, obj, request):
        """The feed with every text made fit for XML, whatever an editor stored (a stray U+0008
        must not take a feed down), and enclosures absolute: Django makes links absolute but
        not enclosures, and feed readers need them absolute too."""
        feed = super().get_feed(obj, request)
        feed.feed = xml_safe_values(feed.feed)
        feed.items = [xml_safe_values(item) for item in feed.items]
        for item in feed.items:
            item["enclosures"] = [
                Enclosure(request.build_absolute_uri(e.url), e.length, e.mime_type)
                for e in item["enclosures"]
            ]
        return feed


class SectionFeed(StoryFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Section, slug=slug)

    def stories(self, section):
        return super().stories(section).filter(section=section)

    def title(self, section):
        return f"{settings.SITE_NAME}: {section.name}"

    def link(self, section):
        return section.get_absolute_url()

    def description(self, section):
        return section.description or f"The latest {section.name} stories."


class TagFeed(StoryFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Tag, slug=slug)

    def stories(self, tag):
        return super().stories(tag).filter(tags=tag)

    def title(self, tag):
        return f"{settings.SITE_NAME}: stories tagged {tag.name}"

    def link(self, tag):
        return tag.get_absolute_url()

    def description(self, tag):
        return f"The latest stories tagged {tag.name}."


class AtomFeed(StoryFeed):
    feed_type = AtomWithContent


class SectionAtomFeed(SectionFeed):
    feed_type = AtomWithContent


class TagAtomFeed(TagFeed):
    feed_type = AtomWithContent
