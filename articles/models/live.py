"""Live coverage of a story: short entries posted from the live desk, newest first."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from articles import markdown
from articles.images import picture, validate_hero_image
from newsroom.caching import declare
from newsroom.rendered import StoredBodyHTML
from newsroom.text import has_visible


def live_tag(article_pk):
    """The cache tag of a story's live entries: ``live_tag(12)`` -> "live-12"."""
    return f"live-{article_pk}"


class LiveEntryQuerySet(models.QuerySet):
    def for_story(self, article):
        """A story's entries, newest first, author loaded. Declares the story's live tag
        (what shows them is purged when one is posted, edited or deleted)."""
        declare(live_tag(article.pk))
        return (
            self.filter(article=article)
            .select_related("author", "library_image")
            .order_by("-created_at", "-pk")
        )


class LiveEntry(StoredBodyHTML):
    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="live_entries"
    )
    body = models.TextField(help_text="Markdown: links, bold, lists. Short is good.")
    key_event = models.BooleanField(
        default=False, help_text="A moment readers should not miss: listed at the top."
    )
    picture = models.ImageField(
        upload_to="live/%Y/%m/",
        blank=True,
        validators=[validate_hero_image],
        editable=False,
        help_text="Validated, re-encoded and rendered like a hero image (articles/images.py).",
    )
    picture_alt = models.CharField(
        "picture alt text",
        max_length=300,
        blank=True,
        help_text="What the picture shows, for readers who cannot see it.",
    )
    picture_renditions = models.JSONField(default=list, blank=True, editable=False)
    # Instead of an upload of its own: a picture of the image library, or the story's hero
    # (their files are theirs: deleting the entry leaves them).
    library_image = models.ForeignKey(
        "articles.LibraryImage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="live_entries",
        editable=False,
    )
    hero_picture = models.BooleanField(
        "show the story's hero picture", default=False, editable=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="live_entries"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LiveEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "live entry"
        verbose_name_plural = "live entries"
        indexes = [models.Index(fields=["article", "-created_at"], name="liveentry_story_idx")]

    def __str__(self):
        return self.body[:60]

    def get_absolute_url(self):
        return f"{self.article.get_absolute_url()}#entry-{self.pk}"

    def clean(self):
        super().clean()
        errors = {}
        if self.body and not has_visible(self.body):  # an empty one: the field's own message
            errors["body"] = "Write something readers can see: this holds no visible letters."
        if self.picture_renditions and not has_visible(self.picture_alt):
            errors["picture_alt"] = "Describe the picture for readers who cannot see it."
        if errors:
            raise ValidationError(errors)

    @property
    def has_picture(self):
        """Whether the entry shows a picture (its own, the library's or the hero), unread."""
        return bool(self.picture_renditions or self.library_image_id or self.hero_picture)

    @property
    def picture_data(self):
        """The entry's picture for templates (see articles.images.picture), or None: its own
        upload, else the library picture it shows (with the library's alt text), else the
        story's hero renditions (with the entry's alt text, or the hero's)."""
        if self.picture_renditions:
            return picture(self.picture_renditions, self.picture_alt)
        if self.library_image_id and self.library_image is not None:
            return self.library_image.picture_data
        if self.hero_picture:
            return picture(self.article.hero_renditions, self.picture_alt or self.article.hero_alt)
        return None

    PICTURE_FILES = {"field": "picture", "renditions_field": "picture_renditions"}

    def body_renderer(self):
        return markdown.render_markdown, markdown.RENDERER

    @property
    def rendered_body(self):
        """Sanitised HTML of the Markdown body (rendered again if the renderer changed)."""
        if self.body_is_stale:
            self.render_body()
        return self.body_html

    @property
    def headline(self):
        """The entry's first line as plain text, for the key-events list and JSON-LD."""
        first = self.body.strip().splitlines()[0] if self.body.strip() else ""
        return first.strip("#*_ ")[:110]
