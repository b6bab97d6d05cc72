"""Story revisions, kept by django-reversion: every admin save and every publish or unpublish
action stores a version of the story (who, when, what the admin said it changed).

versions_of() lists them, compare() says field by field what changed between two (a word diff
of the text, old and new values of the rest), restore() writes an older version's words back
as a new version. A restore never touches when or whether the story is published, its slug or
its hero picture's files (they may be gone): only what an editor writes. It saves the story
the ordinary way, so its pages are purged as after any save (articles/caching.py).
"""

import difflib
import re
from dataclasses import dataclass

import reversion
from django.db import transaction
from django.utils.html import format_html, format_html_join
from reversion.models import Version

from newsroom import dates

from .models import Article, Event, Section, Tag

# What the history compares and a restore writes back, in the form's order, with their labels.
TEXT_FIELDS = {"title": "Title", "standfirst": "Standfirst", "body": "Body"}
OTHER_FIELDS = {
    "section": "Section",
    "tags": "Tags",
    "events": "Events",
    "author": "Author",
    "hero_alt": "Hero alt text",
    "hero_caption": "Hero caption",
    "hero_credit": "Hero credit",
    "comments_closed": "Close comments",
}
RESTORED = (*TEXT_FIELDS, *OTHER_FIELDS)
# Shown in a comparison, never written back by a restore.
SHOWN_ONLY = {"status": "Status", "published_at": "Publish time", "slug": "Slug"}
RELATED = {"section": Section, "tags": Tag, "events": Event}


def register():
    """Called once from ArticlesConfig.ready(): stories are versioned (derived HTML is not)."""
    if not reversion.is_registered(Article):
        reversion.register(
            Article, exclude=["body_html", "body_rendered_with"], ignore_duplicates=True
        )


def versions_of(article):
    """The story's versions, newest first, each with its revision (date_created, user)."""
    return (
        Version.objects.get_for_object(article)
        .select_related("revision", "revision__user")
        .order_by("-revision__date_created", "-pk")
    )


def record(articles, *, user, comment):
    """Keep a version of each of these stories now (for changes made with queryset.update(),
    e.g. the publish and unpublish actions), as one revision."""
    with reversion.create_revision():
        reversion.set_user(user)
        reversion.set_comment(comment)
        for article in articles:
            reversion.add_to_revision(article)


@dataclass
class Change:
    """One field that differs between two versions: `diff` is safe HTML (<del>/<ins>)."""

    label: str
    diff: str


_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old, new):
    """Safe HTML of `new` with the words removed since `old` in <del> and added in <ins>."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            parts.append(format_html("<del>{}</del>", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            parts.append(format_html("<ins>{}</ins>", "".join(b[j1:j2])))
        if op == "equal":
            parts.append(format_html("{}", "".join(a[i1:i2])))
    return format_html_join("", "{}", ((part,) for part in parts))


def _shown(name, value):
    """A stored field value as a person reads it."""
    if name in RELATED:
        model = RELATED[name]
        pks = value if isinstance(value, list) else [value]
        names = {obj.pk: str(obj) for obj in model.objects.filter(pk__in=[p for p in pks if p])}
        return ", ".join(names.get(pk, f"(deleted #{pk})") for pk in pks if pk) or "—"
    if name == "author":
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=value).first()
        return (user.get_full_name() or user.get_username()) if user else "—"
    if name == "published_at":
        return dates.shown(value) if value else "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value not in (None, "") else "—"


def compare(older, newer):
    """The Changes from version `older` to version `newer` (Version objects of one story)."""
    a, b = older.field_dict, newer.field_dict
    changes = []
    for name, label in TEXT_FIELDS.items():
        if a.get(name) != b.get(name):
            changes.append(Change(label, word_diff(a.get(name), b.get(name))))
    for name, label in {**OTHER_FIELDS, **SHOWN_ONLY}.items():
        old, new = a.get(name), b.get(name)
        if isinstance(old, list):
            old, new = sorted(old), sorted(new or [])
        if old != new:
            changes.append(
                Change(
                    label,
                    format_html(
                        "<del>{}</del> → <ins>{}</ins>", _shown(name, old), _shown(name, new)
                    ),
                )
            )
    return changes


def restore(article, version, *, user):
    """Write the words and editorial fields of `version` back onto `article` and save it as a
    new version ("Restored the version of ..."). Publication (status, publish time), slug and
    hero files stay as they are now. Returns the article."""
    data = version.field_dict
    with transaction.atomic(), reversion.create_revision():
        reversion.set_user(user)
        reversion.set_comment(
            f"Restored the version of {dates.shown(version.revision.date_created)}"
        )
        for name in RESTORED:
            if name in ("tags", "events") or name not in data:
                continue
            field = Article._meta.get_field(name)
            if field.is_relation and not (
                field.related_model._default_manager.filter(pk=data[name]).exists()
            ):
                continue  # a section or author deleted since: the story keeps its current one
            setattr(article, field.attname, data[name])
        article.desk_version += 1  # an editor's change: a form opened before it is out of date
        article.save()
        for name, model in (("tags", Tag), ("events", Event)):
            if name in data:
                getattr(article, name).set(model.objects.filter(pk__in=data[name]))
    return article
