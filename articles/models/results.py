from django.db import models
from django.urls import reverse

from articles import times


class Competition(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    place = models.CharField(max_length=200, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        ordering = ["-starts_on", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:competition", kwargs={"slug": self.slug})


class Nation(models.Model):
    code = models.CharField("IOC code", max_length=3, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Athlete(models.Model):
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=160, unique=True)
    nation = models.ForeignKey(Nation, on_delete=models.PROTECT, related_name="athletes")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:athlete", kwargs={"slug": self.slug})


class Event(models.Model):
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

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["competition", "-starts_at"], name="event_competition_idx")]

    def __str__(self):
        return f"{self.sport}: {self.name} ({self.competition})"

    def get_absolute_url(self):
        return reverse("articles:event", kwargs={"slug": self.slug})

    @property
    def record_time(self):
        return times.format_time(self.record_time_ms)


class Result(models.Model):
    class Status(models.TextChoices):
        FINISHED = "finished", "Finished"
        DNF = "DNF", "Did not finish"
        DNS = "DNS", "Did not start"
        DSQ = "DSQ", "Disqualified"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="results")
    athlete = models.ForeignKey(Athlete, on_delete=models.PROTECT, related_name="results")
    rank = models.PositiveSmallIntegerField(null=True, blank=True)
    time_ms = models.PositiveIntegerField("time (ms)", null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.FINISHED)
    notes = models.CharField(
        max_length=40, blank=True, help_text="Record notes such as OR, WR, NR, PB."
    )

    class Meta:
        ordering = ["event", models.F("rank").asc(nulls_last=True), "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "athlete"], name="result_unique_athlete"),
        ]
        indexes = [models.Index(fields=["event", "rank"], name="result_event_rank_idx")]

    def __str__(self):
        return f"{self.rank or self.status} {self.athlete} {self.time}"

    @property
    def time(self):
        return times.format_time(self.time_ms) if self.status == self.Status.FINISHED else ""

    @property
    def medal(self):
        if self.status == self.Status.FINISHED and self.rank in (1, 2, 3):
            return {1: "gold", 2: "silver", 3: "bronze"}[self.rank]
        return ""
