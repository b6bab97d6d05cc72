"""Slugs: the one place a slug is made, for stories, sections, tags, competitions, events and
athletes alike, whether by a model's save(), an importer or the admin.

Any script is transliterated ("Søren Kragh" -> soren-kragh, "たかぎ みほ" -> takagi-miho), a slug is
never empty (a fallback such as "athlete-jpn" stands in when nothing is left) and never taken
(-2, -3... is added).
"""

import itertools

from anyascii import anyascii
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify


def transliterate(text):
    """`text` in ASCII. Each character of a script without spaces between words (Chinese
    characters, Hangul syllables) and each emoji becomes a word of its own, so 高木 reads gao-mu,
    not gaomu, and 🏅🏅 medal-medal."""
    words = []
    for char in str(text or ""):
        ascii_char = anyascii(char)
        own_word = ascii_char[:1] == ":" or (ascii_char[:1].isupper() and not char.isupper())
        if own_word and not char.isascii():
            words.append(f" {ascii_char} ")
        else:
            words.append(ascii_char)
    return "".join(words)


def slug_text(text, *, max_length=200):
    """A slug made from `text`, at most `max_length` long and cut at a hyphen; '' when nothing
    readable is left (punctuation only, for instance)."""
    slug = slugify(transliterate(text))
    if len(slug) > max_length:
        slug = slug[:max_length]
        if "-" in slug:
            slug = slug.rsplit("-", 1)[0]
    return slug.strip("-")


def unique_slug(model, text, *, fallback, qualifier="", exclude_pk=None):
    """A slug from `text` that no other row of `model` has.

    `fallback` is used when `text` gives nothing readable. Taken slugs get the `qualifier`
    (e.g. a nation code: anna-visser-can) and then a number (anna-visser-can-2).
    """
    max_length = model._meta.get_field("slug").max_length
    room = max_length - 12  # space for "-<qualifier>-<number>"
    base = slug_text(text, max_length=room) or slug_text(fallback, max_length=room) or "item"
    qualifier = slug_text(qualifier, max_length=5)
    stem = f"{base}-{qualifier}" if qualifier else base
    others = model._default_manager.exclude(pk=exclude_pk) if exclude_pk else model._default_manager
    taken = set(others.filter(slug__startswith=base).values_list("slug", flat=True))
    candidates = itertools.chain(
        [base, stem] if qualifier else [base],
        (f"{stem}-{number}" for number in itertools.count(2)),
    )
    return next(slug for slug in candidates if slug not in taken)


class SluggedModel(models.Model):
    """A model whose empty `slug` is filled on save from `slug_source()`, unique in its table."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(
                type(self),
                self.slug_source(),
                fallback=self.slug_fallback(),
                qualifier=self.slug_qualifier(),
                exclude_pk=self.pk,
            )
        super().save(*args, **kwargs)

    def slug_source(self):
        """The text the slug is made from."""
        return str(self)

    def slug_fallback(self):
        """What the slug says when the source has nothing readable: the kind of thing."""
        return self._meta.verbose_name

    def slug_qualifier(self):
        """Added before a number when the slug is taken (e.g. an athlete's nation)."""
        return ""


class SlugFormField(forms.CharField):
    """The admin's slug box. The admin's JavaScript fills it as the title is typed, but the server
    decides: what is typed is made a slug here ("Søren Kragh" -> soren-kragh), and an empty box
    is filled from the title or name on save."""

    def __init__(self, *, allow_unicode=False, **kwargs):
        kwargs["required"] = False
        kwargs["help_text"] = kwargs.get("help_text") or (
            "The web address. Leave it empty to make one from the title or name."
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return ""
        slug = slug_text(value, max_length=self.max_length or 200)
        if not slug:
            raise ValidationError(
                "A slug needs letters or digits; leave it empty to make one from the title.",
                code="invalid",
            )
        return slug
