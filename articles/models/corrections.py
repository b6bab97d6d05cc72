from django.conf import settings
from django.db import models
from django.utils import timezone


class Correction(models.Model):
    """A note added to a published story: a correction of something it got wrong, or an update
    on what happened since. Append-only: editors add them (ArticleAdmin's inline) and can
    neither change nor delete one; shown on the story with its time, in its JSON-LD as a
    CorrectionComment and in the feeds."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction"
        UPDATE = "update", "Update"

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="corrections"
    )
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.CORRECTION)
    text = models.TextField(
        max_length=1000,
        help_text="Plain text, shown under the story as written: what was wrong and what is "
        "right now, or what happened since. It cannot be changed or deleted once saved.",
    )
    created_at = models.DateTimeField("added", default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "correction or update"
        verbose_name_plural = "corrections and updates"

    def __str__(self):
        return f"{self.get_kind_display()} on {self.article_id}: {self.text[:40]}"
