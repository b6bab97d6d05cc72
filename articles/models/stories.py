from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from articles import markdown
from articles.images import validate_hero_image
from newsroom.caching import Tagged, TaggedQuerySet, declare, tag_for
from newsroom.rendered import StoredBodyHTML
from newsroom.slugs import SluggedModel
from newsroom.text import has_visible

# What the results, medal tables and athletes pages are called (navigation, headings, crumbs).
RESULTS_PAGES_NAME = "Results & medals"
# Section names a reader would take for those pages: a section of stories gets another name.
_CONFUSABLE_SECTION_NAMES = {"results", "results & medals", "results and medals", "medals"}


class Section(SluggedModel, Tagged):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = TaggedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:section", kwargs={"slug": self.slug})

    def clean(self):
        """Refuses (ValidationError on `name`) a name a reader would confuse with the
        results pages, e.g. "Results": the navigation shows both side by side."""
        super().clean()
        if " ".join(self.name.split()).casefold() in _CONFUSABLE_SECTION_NAMES:
            raise ValidationError(
                {
                    "name": f"Readers would take a section called “{self.name}” for the "
                    f"“{RESULTS_PAGES_NAME}” pages: give it another name, e.g. “Race reports”."
                }
            )


class Tag(SluggedModel, Tagged):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)

    objects = TaggedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:tag", kwargs={"slug": self.slug})


def stories_tag(model_or_instance, pk=None):
    """The tag of which published stories are filed under one section, tag or event, and when
    and where they were filed ("section-3-stories", "tag-7-stories", "event-12-stories"):
    declared by the reads that list them for another page (related stories, an event's or an
    athlete's stories) instead of every story's "article-list"; announced with any change to a
    published or scheduled story filed there, before or after the change (articles/caching.py),
    so an edit to one story leaves the pages of unrelated stories kept."""
    return f"{tag_for(model_or_instance, pk)}-stories"


class ArticleQuerySet(TaggedQuerySet):
    def published(self):
        """The one definition of "published": released and its publish time has come.

        A scheduled story counts as soon as its time passes, so nothing has to flip it.
        A story with a take-down time (`unpublish_at`) leaves by itself when it comes, too.
        (`Article.is_published` is the same rule for one story in memory.)
        """
        now = timezone.now()
        return self.filter(
            models.Q(unpublish_at__isnull=True) | models.Q(unpublish_at__gt=now),
            status__in=Article.LIVE_STATUSES,
            published_at__lte=now,
        )

    def home_lead(self):
        """The published story pinned as the home page's lead, or None."""
        return self.published().for_listing().filter(is_lead=True).first()

    def for_listing(self):
        return (
            self.select_related("section", "author")
            .defer("body", "body_html")
            .order_by("-published_at", "-pk")
        )

    def with_credits(self):
        """Each story's bylines and their authors read in one query (see Article.credits)."""
        from .people import Byline

        return self.select_related("author__author_profile").prefetch_related(
            models.Prefetch("bylines", queryset=Byline.objects.select_related("author"))
        )

    def for_page(self):
        """What an article page needs before its kept fragments: the section and the author.
        (Events, tags, bylines and related stories are read only when their fragment is built.)"""
        return self.select_related("section", "author__author_profile")

    def related_to(self, article, limit=4):
        """Up to `limit` other published stories (a list, section loaded): sharing an event
        weighs 3, each shared tag 2, the same section 1; ties go to the newer story.

        Only candidates are scored: the latest few sharing an event, a tag, the section (up to
        three small index reads, one row per shared event or tag), so nothing touches the whole
        table however popular a tag is; the scoring is a sum in Python rather than grouped
        joins, which cost several milliseconds to build in the ORM. The story's events and tags
        are those its page shows (`covered_events`, `tag_list`, read once), given as ids: no
        subquery to compile, and no read at all for a kind it has none of.
        """
        latest = (
            self.published()
            .exclude(pk=article.pk)
            .order_by("-published_at", "-pk")
            .values_list("pk", "published_at", "section_id")
        )
        events, tags = article.covered_events, article.tag_list
        event_ids, tag_ids = [event.pk for event in events], [tag.pk for tag in tags]
        # Each read depends on which stories are filed under those events, tags and section.
        by_event = latest.filter(events__in=event_ids).scoped(*map(stories_tag, events))
        by_tag = latest.filter(tags__in=tag_ids).scoped(*map(stories_tag, tags))
        by_section = latest.filter(section=article.section_id).scoped(
            stories_tag(Section, article.section_id)
        )
        candidates = (
            (3, by_event[: limit * 10] if event_ids else ()),
            (2, by_tag[: limit * 10] if tag_ids else ()),
            (0, by_section[: limit * 2 + 1]),
        )
        found = [(*row, weight) for weight, rows in candidates for row in rows]
        scores, newest = {}, {}
        for pk, published_at, section_id, weight in found:
            if pk not in scores:
                scores[pk] = int(section_id == article.section_id)
                newest[pk] = published_at
            scores[pk] += weight
        best = sorted(scores, key=lambda pk: (scores[pk], newest[pk], pk), reverse=True)[:limit]
        # The stories shown: each declares its own tag (title, address, section, date).
        shown = (
            self.filter(pk__in=best).select_related("section").defer("body", "body_html").scoped()
        )
        stories = {story.pk: story for story in shown}
        return [stories[pk] for pk in best if pk in stories]


def results_stamp_tag(article_pk):
    """The tag of one story's results stamp (its "Updated" time, its structured data's
    dateModified), announced when new results of an event it covers stamp it
    (Event.mark_results_changed): "article-results-stamp-12"."""
    return f"article-results-stamp-{article_pk}"


class Article(SluggedModel, Tagged, StoredBodyHTML):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"

    LIVE_STATUSES = (Status.PUBLISHED, Status.SCHEDULED)

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    standfirst = models.TextField(
        max_length=600, help_text="One or two sentences under the headline."
    )
    body = models.TextField(help_text="Markdown. Headings, links, lists, quotes and tables.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="articles"
    )
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="articles")
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles")
    events = models.ManyToManyField(
        "articles.Event",
        blank=True,
        related_name="articles",
        help_text="Events this story covers: their results show on the article.",
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the story goes live. A scheduled story appears by itself at this time.",
    )
    unpublish_at = models.DateTimeField(
        "take down at",
        null=True,
        blank=True,
        help_text="Optional: when the story leaves the site by itself. Empty: it stays.",
    )
    is_lead = models.BooleanField(
        "pin as the home page's lead",
        default=False,
        help_text="Shown first on the home page while it is published. Pinning a story "
        "unpins the one pinned before.",
    )
    hero_image = models.ImageField(
        upload_to="heroes/%Y/%m/", blank=True, validators=[validate_hero_image]
    )
    hero_alt = models.CharField(
        "hero alt text",
        max_length=250,
        blank=True,
        help_text="Describe the picture for readers who cannot see it. Required with an image.",
    )
    hero_caption = models.CharField(max_length=300, blank=True)
    hero_credit = models.CharField(max_length=120, blank=True)
    hero_renditions = models.JSONField(default=list, blank=True, editable=False)
    comments_closed = models.BooleanField(
        "close comments", default=False, help_text="Hide the comment form on this story."
    )
    results_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    wordpress_id = models.PositiveBigIntegerField(
        "WordPress post ID",
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="Set on stories brought in by import_wordpress: matched by a later import.",
    )
    wordpress_synced_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="The updated_at import_wordpress last saved: a story saved since by anyone "
        "else is not overwritten by a later import.",
    )
    # Live coverage (articles/live.py): started by an editor on the live desk, ended there too.
    live_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    live_ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Moved on by editors' saves only (the story form, a restore, the publishing actions), not
    # by live coverage or results: what the desk's edit-conflict check compares (articles/desk.py).
    desk_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-published_at"], name="article_published_idx"),
            models.Index(fields=["section", "status", "-published_at"], name="article_section_idx"),
            # Listings of live stories, newest first: read in index order, no sort, at any size.
            models.Index(
                fields=["-published_at", "-id"],
                condition=models.Q(status__in=["published", "scheduled"]),
                name="article_live_idx",
            ),
            models.Index(
                fields=["section", "-published_at", "-id"],
                condition=models.Q(status__in=["published", "scheduled"]),
                name="article_live_section_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["is_lead"], condition=models.Q(is_lead=True), name="article_one_lead"
            )
        ]
        permissions = [("preview_article", "Can preview unpublished articles")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("articles:detail", kwargs={"slug": self.slug})

    def slug_fallback(self):
        """A headline with nothing readable in it: story-2026-02-09."""
        day = timezone.localdate(self.published_at) if self.published_at else timezone.localdate()
        return f"story {day:%Y-%m-%d}"

    def body_renderer(self):
        return markdown.render_markdown, markdown.RENDERER

    @property
    def rendered_body(self):
        """Sanitised HTML of the Markdown body, stored when the story is saved; rendered again
        (and stored) when first read after a deploy that changed the renderer."""
        if self.body_is_stale:
            self.render_body()
            Article.objects.filter(pk=self.pk).update(
                body_html=self.body_html, body_rendered_with=self.body_rendered_with
            )
        return self.body_html

    def clean(self):
        errors = {}
        if self.hero_image and not has_visible(self.hero_alt):
            errors["hero_alt"] = "Describe the hero image for readers who cannot see it."
        if self.status == self.Status.SCHEDULED and not self.published_at:
            errors["published_at"] = "Choose when the scheduled story should go live."
        if self.status == self.Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        if self.unpublish_at and self.published_at and self.unpublish_at <= self.published_at:
            errors["unpublish_at"] = "The take-down time must come after the publish time."
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        """As Django's, except the one-lead rule: pinning a story unpins the other when it is
        saved (ArticleAdmin.save_model), so a form is not refused for it; the database still
        holds the rule."""
        super().validate_constraints(exclude={*(exclude or ()), "is_lead"})

    @property
    def is_published(self):
        """ArticleQuerySet.published()'s rule for this story as it is in memory."""
        now = timezone.now()
        return (
            self.status in self.LIVE_STATUSES
            and self.published_at is not None
            and self.published_at <= now
            and (self.unpublish_at is None or self.unpublish_at > now)
        )

    @property
    def is_taken_down(self):
        """Released, but its take-down time has passed: readers no longer see it."""
        return (
            self.status in self.LIVE_STATUSES
            and self.unpublish_at is not None
            and self.unpublish_at <= timezone.now()
        )

    @property
    def public_status(self):
        """What a reader would call it: "Published" (a scheduled story whose time has come
        too), "Scheduled", "Draft" or "Unpublished" (its take-down time has passed)."""
        if self.is_published:
            return self.Status.PUBLISHED.label
        if self.status == self.Status.DRAFT:
            return self.Status.DRAFT.label
        if self.is_taken_down:
            return "Unpublished"
        return self.Status.SCHEDULED.label

    @property
    def is_live(self):
        """Whether live coverage has started and not ended (the "Live" badge)."""
        return self.live_started_at is not None and self.live_ended_at is None

    @property
    def last_modified(self):
        """When the story last changed: its own edit or the newest results of an event it
        covers (an aware datetime). What shows it depends on the story's results stamp."""
        declare(results_stamp_tag(self.pk))
        return max(filter(None, [self.updated_at, self.results_updated_at]))

    @cached_property
    def hero(self):
        """The hero picture as the templates need it, or None: src, srcset, width, height."""
        if not self.hero_renditions:
            return None
        largest = self.hero_renditions[-1]
        return {
            "src": default_storage.url(largest["name"]),
            "srcset": ", ".join(
                f"{default_storage.url(r['name'])} {r['width']}w" for r in self.hero_renditions
            ),
            "width": largest["width"],
            "height": largest["height"],
            "alt": self.hero_alt,
        }

    @cached_property
    def covered_events(self):
        """The events this story covers, each with its podium and top places (`top_results`)."""
        # Scoped to the events' own tags: linking or unlinking one announces this story.
        return list(self.events.with_top_results().scoped())

    @cached_property
    def tag_list(self):
        """Its tags, by name (a list: the page and its related stories read them once)."""
        return list(self.tags.all().scoped())  # (linking one announces this story)

    @property
    def credits(self):
        """The Authors the byline names, in order: its bylines, else the account that wrote it
        (its profile, or an unsaved Author with its display name: no author page). Read once
        per story; each reading declares the authors' tags (a fragment built after the first
        reading shows them too)."""
        authors = self._credits
        declare(*(author.cache_tag for author in authors if author.pk))
        return authors

    @cached_property
    def _credits(self):
        from .people import Author

        prefetched = "bylines" in getattr(self, "_prefetched_objects_cache", {})
        bylines = self.bylines.all() if prefetched else self.bylines.select_related("author")
        authors = [byline.author for byline in bylines]
        return authors or [Author.shown_for(self.author)]

    @cached_property
    def notes(self):
        """Its corrections and updates, oldest first (a list: the page, its JSON-LD and the
        feeds read them once)."""
        return list(self.corrections.all())

    @property
    def reading_minutes(self):
        words = len(self.body.split()) + len(self.standfirst.split())
        return max(1, round(words / 220))
