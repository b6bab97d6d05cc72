"""Reader pages for results: the index, competitions with medal tables, events and athletes."""

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.functional import SimpleLazyObject
from django.views.generic import DetailView, ListView

from .importers import write_results
from .models import Article, Athlete, Competition, Event, Result
from .models.stories import stories_tag

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
# they show as shared fragments, so these are read only when a fragment is built. Their
# lookups and story lists are scoped (see TaggedQuerySet.scoped): an event or athlete page
# depends on the object found and the stories filed under its events, not on every new event,
# athlete or story.


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
    queryset = Event.objects.select_related("competition").scoped()

    def get_context_data(self, **kwargs):
        event = self.object
        return super().get_context_data(
            results=event.results.for_table(),
            stories=Article.objects.published()
            .for_listing()
            .filter(events=event)
            .scoped(stories_tag(event)),
            **kwargs,
        )


class AthleteView(DetailView):
    template_name = "results/athlete.html"
    context_object_name = "athlete"
    queryset = Athlete.objects.select_related("nation").scoped()

    def get_context_data(self, **kwargs):
        athlete = self.object
        results = (
            Result.objects.filter(athlete=athlete)
            .select_related("event__competition")
            .with_winner_time()
            .order_by("-event__starts_at")
        )
        return super().get_context_data(
            results=results,
            stories=SimpleLazyObject(lambda: athlete_stories(athlete)),  # read in its fragment
            **kwargs,
        )


def athlete_stories(athlete):
    """The latest published stories (a list, at most ATHLETE_STORIES) covering an event in
    which `athlete` has a result. Depends on the athlete's events (a result added, moved or
    deleted announces the athlete) and the stories filed under each (stories_tag)."""
    event_ids = list(
        Result.objects.filter(athlete=athlete).scoped().values_list("event_id", flat=True)
    )
    if not event_ids:
        return []
    stories = (
        Article.objects.published()
        .for_listing()
        .filter(events__in=event_ids)
        .distinct()
        .scoped(*(stories_tag(Event, pk) for pk in set(event_ids)))
    )
    return list(stories[:ATHLETE_STORIES])


def event_results_csv(request, slug):
    """An event's results as CSV, in the format the import reads."""
    event = get_object_or_404(Event, slug=slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.csv"'
    write_results(event=event, file=response)
    return response
