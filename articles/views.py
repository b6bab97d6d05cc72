from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views.generic import DetailView, ListView
from django.views.generic.dates import MonthArchiveView

from newsroom import caching

from .models import Article, Author, Section, Tag


class KeptCountPaginator(Paginator):
    """Counting every published story is a scan of the whole index (7 ms at 100,000 stories),
    so the count is kept, like the listing it pages, until the next change to stories."""

    def __init__(self, *args, count_key, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self):
        return caching.remember(("story-count", self.count_key), self.object_list.count)


class PublishedArticlesMixin:
    """Shared queryset and pagination for every list of stories. The listing itself is kept as
    a shared fragment by the templates, so the page of stories is read only to build it."""

    paginate_by = settings.ARTICLES_PER_PAGE

    def get_queryset(self):
        return Article.objects.published().for_listing()

    def get_paginator(self, queryset, *args, **kwargs):
        return KeptCountPaginator(queryset, *args, count_key=self.request.path, **kwargs)


class HomeView(PublishedArticlesMixin, ListView):
    template_name = "articles/home.html"

    def get_context_data(self, **kwargs):
        # Read only when the kept home page is built (a callable: the template calls it).
        return super().get_context_data(pinned_lead=Article.objects.home_lead, **kwargs)


class SectionView(PublishedArticlesMixin, ListView):
    template_name = "articles/section.html"

    def get_queryset(self):
        self.section = get_object_or_404(Section, slug=self.kwargs["slug"])
        return super().get_queryset().filter(section=self.section)

    def get_context_data(self, **kwargs):
        return super().get_context_data(section=self.section, **kwargs)


class TagView(PublishedArticlesMixin, ListView):
    template_name = "articles/tag.html"

    def get_queryset(self):
        self.tag = get_object_or_404(Tag, slug=self.kwargs["slug"])
        return super().get_queryset().filter(tags=self.tag)

    def get_context_data(self, **kwargs):
        return super().get_context_data(tag=self.tag, **kwargs)


class AuthorView(PublishedArticlesMixin, ListView):
    """An author's published stories, newest first: those whose byline names them, and those
    they wrote that name nobody else."""

    template_name = "articles/author.html"

    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return (
            super()
            .get_queryset()
            .filter(
                Q(bylines__author=self.author)
                | Q(bylines__isnull=True, author_id=self.author.user_id)
            )
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(author=self.author, **kwargs)


class ArchiveMonthView(PublishedArticlesMixin, MonthArchiveView):
    template_name = "articles/archive_month.html"
    date_field = "published_at"
    month_format = "%m"
    allow_empty = False
    context_object_name = "article_list"


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_queryset(self):
        # Scoped: the story found changes only with its own tag (see TaggedQuerySet.scoped).
        return Article.objects.published().for_page().scoped()


@method_decorator(permission_required("articles.preview_article", raise_exception=True), "dispatch")
class ArticlePreviewView(ArticleDetailView):
    """Editors see any article, draft or scheduled, exactly as readers will."""

    def get_queryset(self):
        return Article.objects.for_page()

    def get_context_data(self, **kwargs):
        """`preview_date`: the time a story without one would get if published now;
        `public_url`: where readers find it once it is live."""
        return super().get_context_data(
            preview=True,
            preview_date=timezone.now(),
            public_url=self.request.build_absolute_uri(self.object.get_absolute_url()),
            **kwargs,
        )

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
        return response


def archive_index(request):
    months = Article.objects.published().dates("published_at", "month", order="DESC")
    return render(request, "articles/archive_index.html", {"months": months})
