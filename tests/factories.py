"""Small factories: each makes one valid object, with keyword overrides."""

import io
import itertools
import time
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from PIL import Image

from articles.models import (
    Article,
    Athlete,
    Author,
    Competition,
    Event,
    Nation,
    Result,
    Section,
    Tag,
)
from comments.models import Ban, Comment

_counter = itertools.count(1)


def _n():
    return next(_counter)


def make_user(username=None, *, groups=(), is_staff=False, is_superuser=False, **fields):
    username = username or f"user{_n()}"
    user = get_user_model().objects.create_user(
        username=username,
        password="correct horse battery staple",
        is_staff=is_staff or bool(groups) or is_superuser,
        is_superuser=is_superuser,
        **fields,
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def make_section(**fields):
    n = _n()
    fields.setdefault("name", f"Section {n}")
    fields.setdefault("slug", f"section-{n}")
    return Section.objects.create(**fields)


def make_tag(**fields):
    n = _n()
    fields.setdefault("name", f"Tag {n}")
    fields.setdefault("slug", f"tag-{n}")
    return Tag.objects.create(**fields)


def make_article(*, tags=(), events=(), **fields):
    n = _n()
    fields.setdefault("title", f"Story number {n}")
    fields.setdefault("slug", f"story-{n}")
    fields.setdefault("standfirst", f"The standfirst of story {n}.")
    fields.setdefault("body", f"The body of story {n}.\n\nA second paragraph.")
    fields.setdefault("status", Article.Status.PUBLISHED)
    fields.setdefault("published_at", timezone.now() - timedelta(hours=n % 50 + 1))
    if "section" not in fields:
        fields["section"] = make_section()
    if "author" not in fields:
        fields["author"] = make_user()
    article = Article.objects.create(**fields)
    if tags:
        article.tags.set(tags)
    if events:
        article.events.set(events)
    return article


def make_author(*, user=None, **fields):
    n = _n()
    fields.setdefault("name", f"Author {n}")
    return Author.objects.create(user=user or make_user(), **fields)


def make_nation(code=None, **fields):
    """The nation with this code, named "Nation CODE" (or `name`) whether or not the shipped IOC
    list has it, so tests read the same names either way."""
    code = code or f"X{_n() % 100:02d}"
    fields.setdefault("name", f"Nation {code}")
    nation, _ = Nation.objects.update_or_create(code=code, defaults=fields)
    return nation


def make_athlete(**fields):
    n = _n()
    fields.setdefault("name", f"Athlete {n}")
    fields.setdefault("slug", f"athlete-{n}")
    if "nation" not in fields:
        fields["nation"] = make_nation()
    return Athlete.objects.create(**fields)


def make_competition(**fields):
    n = _n()
    today = timezone.now().date()
    fields.setdefault("name", f"Competition {n}")
    fields.setdefault("slug", f"competition-{n}")
    fields.setdefault("starts_on", today)
    fields.setdefault("ends_on", today)
    return Competition.objects.create(**fields)


def make_event(**fields):
    n = _n()
    fields.setdefault("name", f"Event {n}")
    fields.setdefault("slug", f"event-{n}")
    fields.setdefault("sport", "Speed skating")
    fields.setdefault("starts_at", timezone.now())
    fields.setdefault("status", Event.Status.FINAL)
    if "competition" not in fields:
        fields["competition"] = make_competition()
    return Event.objects.create(**fields)


def make_result(**fields):
    if "event" not in fields:
        fields["event"] = make_event()
    if "athlete" not in fields:
        fields["athlete"] = make_athlete()
    return Result.objects.create(**fields)


def make_comment(**fields):
    n = _n()
    fields.setdefault("name", f"Reader {n}")
    fields.setdefault("email", f"reader{n}@example.com")
    fields.setdefault("body", f"Comment number {n}.")
    fields.setdefault("status", Comment.Status.APPROVED)
    if "article" not in fields:
        fields["article"] = make_article()
    return Comment.objects.create(**fields)


def make_ban(**fields):
    fields.setdefault("kind", Ban.Kind.EMAIL)
    fields.setdefault("value", f"banned{_n()}@example.com")
    fields.setdefault("reason", "Abuse")
    return Ban.objects.create(**fields)


def image_bytes(fmt="JPEG", size=(1200, 675), color=(30, 90, 160), **save_options):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt, **save_options)
    return buffer.getvalue()


def comment_form_data(article, *, seconds_ago=60, **fields):
    """What a reader's browser posts from an article's comment form, shown `seconds_ago`."""
    from comments.forms import issue_token

    data = {
        "name": "Ada Reader",
        "email": "ada@example.com",
        "website": "",
        "body": "A thoughtful comment about the race.",
        "parent": "",
        "url": "",
        "token": issue_token(article.pk, issued_at=time.time() - seconds_ago),
    }
    data.update(fields)
    return data


def add_hero(article, *, size=(1700, 900), alt="A skater on the oval"):
    """Give an article a processed hero image with renditions, as the admin does on upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from articles.images import process_hero_image

    article.hero_image = SimpleUploadedFile("hero.jpg", image_bytes(size=size), "image/jpeg")
    article.hero_alt = alt
    article.hero_renditions = process_hero_image(article)
    article.save()
    return article


def make_live_entry(**fields):
    """An entry of a live story (the story's coverage started)."""
    from articles.models import LiveEntry

    if "article" not in fields:
        fields["article"] = make_article(live_started_at=timezone.now())
    fields.setdefault("body", f"Live update number {_n()}.")
    if "author" not in fields:
        fields["author"] = fields["article"].author
    return LiveEntry.objects.create(**fields)


def make_library_image(alt="A skater crosses the line", **fields):
    """A picture of the image library, stored and rendered as the admin does."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from articles import images
    from articles.models import LibraryImage

    upload = SimpleUploadedFile("skater.png", image_bytes("PNG", size=(900, 600)), "image/png")
    image = LibraryImage(alt=alt, **fields)
    image.renditions, _stored = images.store_hero_image(
        image, images.render_hero_image(upload), **LibraryImage.PICTURE_FILES
    )
    image.save()
    return image


def media_files(settings):
    """Every file under MEDIA_ROOT (uploads, renditions, kept files), as sorted relative paths:
    what tests compare to say nothing was left behind."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
