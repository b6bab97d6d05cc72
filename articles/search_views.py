from urllib.parse import urlencode

from django.conf import settings
from django.views.generic import ListView

from . import search

NAMES_SHOWN = 10


class SearchView(ListView):
    """Stories, athletes and events for `?q=`; any text at all gives a normal page."""

    template_name = "search/results.html"
    paginate_by = settings.ARTICLES_PER_PAGE

    def get_queryset(self):
        self.query = search.Query.parse(self.request.GET.get("q", ""))
        return search.articles(self.query)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            query=self.query,
            query_string=urlencode({"q": self.query.text}),
            hits=search.hits(context["object_list"]),
        )
        if context["page_obj"].number == 1:
            athletes, events = search.athletes(self.query), search.events(self.query)
            context.update(
                athletes=athletes[:NAMES_SHOWN],
                athlete_count=athletes.count(),
                events=events[:NAMES_SHOWN],
                event_count=events.count(),
            )
        return context
