from datetime import timedelta
from functools import wraps

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from newsroom.caching import all_tag, declare, list_tag
from newsroom.xmltext import xml_safe

from .models import Article, Athlete, Competition, Event, Section, Tag
from .models.results import RESULTS_STAMP_TAG

NEWS_WINDOW = timedelta(days=2)  # Google News reads only the last two days' stories


def latest_story(**filters):
    """The publish time of the newest published story matching `filters`, as a subquery (it
    runs inside another model's query, so the stories it reads are declared here)."""
    declare(list_tag(Article), all_tag(Article))
    stories = Article.objects.published().filter(**filters).order_by("-published_at")
    return Subquery(stories.values("published_at")[:1])


class ArticleSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.8
    limit = 5000

    def items(self):
        declare(RESULTS_STAMP_TAG)  # each story's lastmod moves with its results
        return Article.objects.published().for_listing()

    def lastmod(self, article):
        return article.last_modified

    def get_latest_lastmod(self):
        """One aggregate instead of loading every story, for the index's <lastmod> (which a
        result change moves too: RESULTS_STAMP_TAG)."""
        declare(RESULTS_STAMP_TAG)
        latest = Article.objects.published().aggregate(
            modified=Max(Greatest("updated_at", Coalesce("results_updated_at", "updated_at")))
        )
        return latest["modified"]


class NewsSitemap(ArticleSitemap):
    """Google News sitemap: rendered with templates/sitemaps/news.xml."""

    limit = 1000

    def items(self):
        return super().items().filter(published_at__gte=timezone.now() - NEWS_WINDOW)

    def get_latest_lastmod(self):
        return None


class SectionSitemap(Sitemap):
    changefreq = "hourly"
    priority = 0.6

    def items(self):
        return Section.objects.annotate(latest=latest_story(section=OuterRef("pk")))

    def lastmod(self, section):
        return section.latest


class TagSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.4

    def items(self):
        return (
            Tag.objects.annotate(latest=latest_story(tags=OuterRef("pk")))
            .filter(latest__isnull=False)
            .order_by("name")
        )

    def lastmod(self, tag):
        return tag.latest


class CompetitionSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.6

    def items(self):
        # Read over its events' rows: any event's results stamp may move it (declared by hand,
        # see TaggedQuerySet).
        changed = Max("events__results_changed_at")
        return (
            Competition.objects.declaring(all_tag(Event))
            .annotate(changed=changed)
            .order_by("-starts_on", "pk")
        )

    def lastmod(self, competition):
        return competition.changed

    def get_latest_lastmod(self):
        return Event.objects.aggregate(changed=Max("results_changed_at"))["changed"]


class EventSitemap(Sitemap):
    changefreq = "hourly"
    priority = 0.6
    limit = 5000

    def items(self):
        return Event.objects.order_by("-starts_at", "pk")

    def lastmod(self, event):
        return event.results_changed_at

    def get_latest_lastmod(self):
        return Event.objects.aggregate(changed=Max("results_changed_at"))["changed"]


class AthleteSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.4
    limit = 5000

    def items(self):
        # Read over their results' events (declared by hand, as for competitions); a result
        # moving between athletes announces both.
        changed = Max("results__event__results_changed_at")
        athletes = Athlete.objects.declaring(all_tag(Event)).annotate(changed=changed)
        return athletes.order_by("name", "pk")

    def lastmod(self, athlete):
        return athlete.changed

    def get_latest_lastmod(self):
        return Athlete.objects.aggregate(changed=Max("results__event__results_changed_at"))[
            "changed"
        ]


SITEMAPS = {
    "articles": ArticleSitemap,
    "news": NewsSitemap,
    "sections": SectionSitemap,
    "tags": TagSitemap,
    "competitions": CompetitionSitemap,
    "events": EventSitemap,
    "athletes": AthleteSitemap,
}


def xml_safe_view(view):
    """A sitemap view whose XML, however rendered, keeps no character XML 1.0 forbids: one
    place for the sitemap index, every sitemap and the news sitemap, whatever their templates."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
            response.content = xml_safe(response.rendered_content)
        return response

    return wrapped


index = require_safe(xml_safe_view(sitemap_views.index))
sitemap = require_safe(xml_safe_view(sitemap_views.sitemap))
