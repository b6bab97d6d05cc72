from django.conf import settings
from django.db import models
from django.urls import reverse

from newsroom.caching import Tagged, TaggedQuerySet
from newsroom.slugs import SluggedModel


def display_name(user):
    """The name readers see for a member of staff (bylines, staff replies): their Author
    profile's name, else their first and last name, else "<site> staff". Never the login name."""
    profile = getattr(user, "author_profile", None) if user.pk else None
    if profile is not None:
        return profile.name
    return user.get_full_name().strip() or f"{settings.SITE_NAME} staff"


class Author(SluggedModel, Tagged):
    """A member of staff as readers know them: the name on bylines and staff replies, and an
    author page (/authors/<slug>/) listing their published stories. Each person edits their
    own (superusers anyone's)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="author_profile"
    )
    name = models.CharField(
        "display name",
        max_length=120,
        help_text="How readers see you: on bylines, your author page and replies to comments.",
    )
    slug = models.SlugField(max_length=120, unique=True)
    bio = models.TextField(
        blank=True, max_length=600, help_text="Optional: a sentence or two for your author page."
    )

    objects = TaggedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:author", kwargs={"slug": self.slug})

    @classmethod
    def for_user(cls, user):
        """`user`'s profile, made (named as display_name() calls them) if they have none."""
        author = getattr(user, "author_profile", None)
        if author is None:
            author, _ = cls.objects.get_or_create(user=user, defaults={"name": display_name(user)})
            user.author_profile = author
        return author

    @classmethod
    def shown_for(cls, user):
        """`user`'s profile, or an unsaved Author with their display name (no author page)."""
        return getattr(user, "author_profile", None) or cls(user=user, name=display_name(user))


class Byline(models.Model):
    """One author credited on a story, in the order the byline names them."""

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="bylines"
    )
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="bylines")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["article", "author"], name="byline_once_per_story")
        ]

    def __str__(self):
        return f"{self.author} on {self.article_id}"
