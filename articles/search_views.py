from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.views.generic import ListView

from newsroom import caching

from . import search

NAMES_SHOWN = 10
# Stories counted, ranked and paged at most (the newest that match): past this the page says
# "more than 1,000" and asks for another word, instead of reading every matching story.
MOST_COUNTED = 1000


class SearchPaginator(Paginator):
    """Pages the best MOST_COUNTED matches of the `found` (counted up to MOST_COUNTED + 1)."""

    def __init__(self, *args, found, **kwargs):
        super().__init__(*args, **kwargs)
        self.found = found

    @cached_property
    def count(self):
        return min(self.found, MOST_COUNTED)

    @property
    def more_than_counted(self):
        return self.found > MOST_COUNTED


class SearchResults:
    """What the page of results shows, read only when its kept fragment is built."""

    def __init__(self, query, page):
        self.query, self.page = query, page

    @cached_property
    def hits(self):
        return search.hits(self.page.object_list)

    @cached_property
    def athletes(self):
        return list(search.athletes(self.query)[:NAMES_SHOWN])

    @cached_property
    def athlete_count(self):
        return search.athletes(self.query).count()

    @cached_property
    def events(self):
        return list(search.events(self.query)[:NAMES_SHOWN])

    @cached_property
    def event_count(self):
        return search.events(self.query).count()


class SearchView(ListView):
    """Stories, athletes and events for `?q=`; any text at all gives a normal page. The results
    are kept as a shared fragment per query and page (see templates/search/results.html)."""

    template_name = "search/results.html"
    paginate_by = settings.ARTICLES_PER_PAGE

    def get_queryset(self):
        self.query = search.Query.parse(self.request.GET.get("q", ""))
        # Kept with the results, so a kept page of results needs no query at all.
        matches = caching.remember(
            ("search-matches", self.query.terms),
            lambda: search.newest_matches(self.query, MOST_COUNTED + 1),
            settings.PAGE_CACHE_SECONDS,  # one per query: no longer than a kept page
        )
        self.found = len(matches)
        return search.articles(self.query, among=matches[:MOST_COUNTED])

    def get_paginator(self, queryset, *args, **kwargs):
        return SearchPaginator(queryset, *args, found=self.found, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return context | {
            "query": self.query,
            "query_string": urlencode({"q": self.query.text}),
            "results": SearchResults(self.query, context["page_obj"]),
        }
