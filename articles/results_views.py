"""Reader pages for results: the index, competitions with medal tables, events and athletes."""

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView

from .importers import write_results
from .models import Article, Athlete, Competition, Event, Result

ATHLETE_STORIES = 12


class ResultsIndexView(ListView):
    template_name = "results/index.html"
    context_object_name = "competitions"
    paginate_by = 10

    def get_queryset(self):
        return Competition.objects.prefetch_related(
            Prefetch("events", queryset=Event.objects.order_by("-starts_at"))
        )


# The detail pages below hand their templates querysets, not lists: the templates keep what
# they show as shared fragments, so these are read only when a fragment is built.


class CompetitionView(DetailView):
    template_name = "results/competition.html"
    context_object_name = "competition"
    model = Competition

    def get_context_data(self, **kwargs):
        competition = self.object
        return super().get_context_data(
            medal_table=competition.medal_table(),
            events=competition.events.all(),
            **kwargs,
        )


class EventView(DetailView):
    template_name = "results/event.html"
    context_object_name = "event"
    queryset = Event.objects.select_related("competition")

    def get_context_data(self, **kwargs):
        event = self.object
        return super().get_context_data(
            results=event.results.for_table(),
            stories=Article.objects.published().for_listing().filter(events=event),
            **kwargs,
        )


class AthleteView(DetailView):
    template_name = "results/athlete.html"
    context_object_name = "athlete"
    queryset = Athlete.objects.select_related("nation")

    def get_context_data(self, **kwargs):
        athlete = self.object
        results = (
            Result.objects.filter(athlete=athlete)
            .select_related("event__competition")
            .with_winner_time()
            .order_by("-event__starts_at")
        )
        stories = (
            Article.objects.published()
            .for_listing()
            .filter(events__results__athlete=athlete)
            .distinct()[:ATHLETE_STORIES]
        )
        return super().get_context_data(results=results, stories=stories, **kwargs)


def event_results_csv(request, slug):
    """An event's results as CSV, in the format the import reads."""
    event = get_object_or_404(Event, slug=slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.csv"'
    write_results(event=event, file=response)
    return response
