"""The image library: pictures uploaded once (validated, re-encoded and rendered like hero
images, articles/images.py) and shown in any story's body by a reference on a line of its own,
``[image:12]`` (see articles/library.py)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from articles.images import picture, validate_hero_image
from newsroom.caching import Tagged, TaggedQuerySet
from newsroom.text import has_visible


class LibraryImage(Tagged):
    image = models.ImageField(
        upload_to="library/%Y/%m/",
        validators=[validate_hero_image],
        help_text="JPEG, PNG or WebP; re-encoded and made in several widths like a hero image.",
    )
    alt = models.CharField(
        "alt text",
        max_length=250,
        help_text="Describe the picture for readers who cannot see it. Required.",
    )
    caption = models.CharField(max_length=300, blank=True)
    credit = models.CharField(max_length=120, blank=True)
    renditions = models.JSONField(default=list, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TaggedQuerySet.as_manager()

    PICTURE_FILES = {"field": "image", "renditions_field": "renditions"}

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "library image"
        verbose_name_plural = "image library"

    def __str__(self):
        return f"#{self.pk}: {self.alt[:60]}"

    def clean(self):
        super().clean()
        if not has_visible(self.alt):
            raise ValidationError({"alt": "Describe the picture for readers who cannot see it."})

    @property
    def reference(self):
        """What an editor puts on a line of its own in a story's body: "[image:12]"."""
        return f"[image:{self.pk}]"

    @property
    def picture_data(self):
        """The picture for templates and bodies (articles.images.picture), or None."""
        return picture(self.renditions, self.alt)
