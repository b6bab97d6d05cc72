from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Min, OuterRef, Prefetch, Q, Subquery, Window
from django.db.models.functions import Rank
from django.urls import reverse
from django.utils import timezone

from articles import times
from newsroom.caching import Tagged, TaggedQuerySet, all_tag, announce, tag_for
from newsroom.slugs import SluggedModel

from .stories import results_stamp_tag

MEDALS = {1: "gold", 2: "silver", 3: "bronze"}
RECORD_NOTES = {
    "WR": "World record",
    "OR": "Olympic record",
    "ER": "European record",
    "NR": "National record",
    "TR": "Track record",
    "PB": "Personal best",
    "SB": "Season best",
}
TOP_PLACES = 5
# Announced with every change to an event's results: the "Updated" time of the stories covering
# it moved; declared by what shows that time for many stories (feeds, sitemaps).
RESULTS_STAMP_TAG = "article-results-stamp"


def medals_tag(competition_pk):
    """The tag of one competition's medal table ("medals-3"), announced when a result of one
    of its events changes or an event joins or leaves it (articles/caching.py)."""
    return f"medals-{competition_pk}"


class Competition(SluggedModel, Tagged):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    place = models.CharField(max_length=200, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()

    objects = TaggedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:competition", kwargs={"slug": self.slug})

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "A competition cannot end before it starts."})

    def medal_table(self):
        """The competition's medal table (ResultQuerySet.medal_table), depending on its
        `medals_tag`: its events are read in a subquery, so no change to one event's own fields
        (a results stamp on race day) retires it."""
        events = Event.objects.filter(competition=self).values("pk")
        return Result.objects.filter(event__in=events).declaring(medals_tag(self.pk)).medal_table()


class Nation(Tagged):
    code = models.CharField("IOC code", max_length=3, unique=True)
    name = models.CharField(max_length=100)

    objects = TaggedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Athlete(SluggedModel, Tagged):
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=160, unique=True)
    nation = models.ForeignKey(Nation, on_delete=models.PROTECT, related_name="athletes")

    objects = TaggedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:athlete", kwargs={"slug": self.slug})

    def slug_fallback(self):
        """A name with nothing readable in it: athlete-jpn."""
        return f"athlete {self.nation.code}"

    def slug_qualifier(self):
        """A namesake from another nation: anna-visser-can."""
        return self.nation.code


class EventQuerySet(TaggedQuerySet):
    def with_top_results(self):
        """Events with their podium and top places in `top_results`, in one extra query."""
        top = Result.objects.for_table().filter(rank__lte=TOP_PLACES)
        return self.select_related("competition").prefetch_related(
            Prefetch("results", queryset=top, to_attr="top_results")
        )


class Event(SluggedModel, Tagged):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        FINAL = "final", "Final"

    competition = models.ForeignKey(Competition, on_delete=models.PROTECT, related_name="events")
    sport = models.CharField(max_length=80)
    name = models.CharField(max_length=150, help_text="Discipline, e.g. “Women's 1000 m”.")
    slug = models.SlugField(max_length=200, unique=True)
    starts_at = models.DateTimeField()
    venue = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.SCHEDULED)
    results_official = models.BooleanField(
        default=False, help_text="Unticked, results are shown as provisional."
    )
    record_label = models.CharField(
        max_length=40, blank=True, help_text="e.g. “Olympic record” (the record before this event)."
    )
    record_holder = models.CharField(max_length=150, blank=True)
    record_time_ms = models.PositiveIntegerField(null=True, blank=True)
    record_year = models.PositiveSmallIntegerField(null=True, blank=True)
    results_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["competition", "-starts_at"], name="event_competition_idx")]

    def __str__(self):
        return f"{self.sport}: {self.name} ({self.competition})"

    def get_absolute_url(self):
        return reverse("articles:event", kwargs={"slug": self.slug})

    def slug_source(self):
        """The same event comes back at the next competition, so its slug names the competition:
        milano-cortina-2026-speed-skating-womens-1000-m."""
        return f"{self.competition.slug} {self.sport} {self.name}"

    def clean(self):
        record = [self.record_label, self.record_holder, self.record_time_ms]
        if any(record) and not all(record):
            raise ValidationError(
                "The record before this event needs a label, a holder and a time (or none of them)."
            )

    @property
    def record_time(self):
        return times.format_time(self.record_time_ms)

    @property
    def results_label(self):
        """What a reader is told about the state of the results."""
        if self.status != self.Status.FINAL:
            return self.get_status_display()
        return "Official results" if self.results_official else "Provisional results"

    @property
    def has_record(self):
        return bool(self.record_label and self.record_time_ms)

    def mark_results_changed(self, *, at=None):
        """The one place a change to this event's results is recorded.

        Stamps the event and every published story that covers it, which then reads "Updated".
        """
        at = at or timezone.now()
        Event.objects.filter(pk=self.pk).update(results_changed_at=at)
        self.results_changed_at = at
        stamped = list(self.articles.published().values_list("pk", flat=True))
        self.articles.filter(pk__in=stamped).update(results_updated_at=at)
        # Queryset updates send no signal: the event's pages (the covering stories show it:
        # their results and "Updated" time), each covering story's results stamp (what shows
        # its dateModified), its competition's medal table, and the feeds and sitemaps that
        # give each story's updated time. No other story's page: results change every few
        # seconds on race day.
        announce(
            tag_for(self),
            medals_tag(self.competition_id),
            all_tag(Event),
            RESULTS_STAMP_TAG,
            *map(results_stamp_tag, stamped),
        )


class ResultQuerySet(TaggedQuerySet):
    def in_table_order(self):
        """Ranked finishers first; then DNF, DNS and DSQ, who have no rank."""
        return self.order_by(F("rank").asc(nulls_last=True), "status", "athlete__name", "pk")

    def with_winner_time(self):
        """Annotate `winner_ms`, the fastest time in each row's event, for the gap to the winner."""
        fastest = (
            Result.objects.filter(event=OuterRef("event"))
            .order_by()
            .values("event")
            .annotate(fastest=Min("time_ms"))
            .values("fastest")
        )
        return self.annotate(winner_ms=Subquery(fastest))

    def for_table(self):
        """Rows for a results table: athlete and nation joined, the winner's time annotated."""
        return self.select_related("athlete__nation").with_winner_time().in_table_order()

    def medals(self):
        return self.filter(status=Result.Status.FINISHED, rank__in=MEDALS)

    def medal_table(self):
        """Medals per nation, counted by the database; equal rows share a place."""
        by_medal = {medal: Count("pk", filter=Q(rank=rank)) for rank, medal in MEDALS.items()}
        return (
            self.medals()
            .values(code=F("athlete__nation__code"), nation=F("athlete__nation__name"))
            .annotate(**by_medal, total=Count("pk"))
            .annotate(
                place=Window(
                    Rank(), order_by=[F("gold").desc(), F("silver").desc(), F("bronze").desc()]
                )
            )
            .order_by("place", "nation")
        )


class Result(models.Model):
    class Status(models.TextChoices):
        FINISHED = "finished", "Finished"
        DNF = "DNF", "Did not finish"
        DNS = "DNS", "Did not start"
        DSQ = "DSQ", "Disqualified"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="results")
    athlete = models.ForeignKey(Athlete, on_delete=models.PROTECT, related_name="results")
    rank = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Ties share a rank; the next rank is skipped."
    )
    time_ms = models.PositiveIntegerField("time (ms)", null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.FINISHED)
    notes = models.CharField(
        max_length=40, blank=True, help_text="Record notes such as OR, WR, NR, PB."
    )

    objects = ResultQuerySet.as_manager()

    class Meta:
        ordering = ["event", models.F("rank").asc(nulls_last=True), "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "athlete"], name="result_unique_athlete"),
            models.CheckConstraint(
                condition=Q(status="finished", rank__isnull=False, rank__gte=1)
                | (~Q(status="finished") & Q(rank__isnull=True, time_ms__isnull=True)),
                name="result_rank_follows_status",
                violation_error_message=(
                    "A finisher needs a rank; a DNF, DNS or DSQ has neither rank nor time."
                ),
            ),
        ]
        indexes = [models.Index(fields=["event", "rank"], name="result_event_rank_idx")]

    def __str__(self):
        return f"{self.rank or self.status} {self.athlete} {self.time}"

    def clean(self):
        errors = {}
        if self.status == self.Status.FINISHED:
            if not self.rank:
                errors["rank"] = "A finisher needs a rank (1 or more)."
        else:
            if self.rank is not None:
                errors["rank"] = f"A {self.status} has no rank: leave it empty."
            if self.time_ms is not None:
                errors["time_ms"] = f"A {self.status} has no time: leave it empty."
        if errors:
            raise ValidationError(errors)

    @property
    def time(self):
        return times.format_time(self.time_ms) if self.status == self.Status.FINISHED else ""

    @property
    def behind(self):
        """Gap to the winner; needs the `winner_ms` of ResultQuerySet.with_winner_time()."""
        return times.format_behind(self.time_ms, getattr(self, "winner_ms", None))

    @property
    def medal(self):
        if self.status == self.Status.FINISHED:
            return MEDALS.get(self.rank, "")
        return ""

    @property
    def note_items(self):
        """'OR, PB' -> [('OR', 'Olympic record'), ('PB', 'Personal best')]."""
        codes = [code.strip() for code in self.notes.replace(",", " ").split()]
        return [(code, RECORD_NOTES.get(code.upper(), "")) for code in codes if code]
