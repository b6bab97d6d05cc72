"""Library pictures in story bodies: the one place a reference becomes HTML.

An editor puts ``[image:12]`` on a line of its own in a story's body (the story admin offers
the snippet beside the body, and a button that inserts it). Before the body's Markdown is
rendered, `expand` turns each reference into a ``<figure>`` with the picture's renditions as
``srcset``, its width, height, alt text and ``loading="lazy"`` (and its caption and credit);
the sanitiser keeps it since every address is the site's own upload. A reference to a picture
that is not in the library (deleted, or a number typed wrong) shows nothing, and `missing`
names it so that the editor is told on save.

A story's stored HTML holds its pictures' alt text and files: when a library picture is
changed or deleted, `refresh_stories` renders again the stories showing it and purges their
pages (connected in ArticlesConfig.ready through `connect`)."""

import re

from django.db.models.signals import post_delete, post_save, pre_delete
from django.utils.html import format_html

from newsroom.caching import announce, tag_for

# On a line of its own (leading and trailing spaces allowed, and the \r of a browser's \r\n):
# "[image:12]".
REFERENCE = re.compile(r"^[ \t]*\[image:(\d{1,12})\][ \t\r]*$", re.MULTILINE)
ANYWHERE = re.compile(r"\[image:(\d{1,12})\]")
SIZES = "(min-width: 50rem) 46rem, 100vw"


def reference(pk):
    """The snippet that shows library picture `pk` in a body: "[image:12]"."""
    return f"[image:{pk}]"


def referenced_ids(text):
    """The library picture numbers `text` refers to, in order, without repeats."""
    return list(dict.fromkeys(int(pk) for pk in REFERENCE.findall(text or "")))


def _images(ids):
    from .models import LibraryImage

    return {image.pk: image for image in LibraryImage.objects.filter(pk__in=ids)} if ids else {}


def figure_html(image):
    """The HTML of one library picture in a body (safe): a figure with the img (srcset,
    sizes, width, height, alt, lazy loading) and, when it has them, caption and credit."""
    data = image.picture_data
    if data is None:
        return ""
    note = " ".join(part for part in (image.caption, image.credit and f"({image.credit})") if part)
    caption = format_html("<figcaption>{}</figcaption>", note) if note else ""
    return format_html(
        '<figure><img src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}" '
        'loading="lazy" decoding="async">{}</figure>',
        data["src"],
        data["srcset"],
        SIZES,
        data["width"],
        data["height"],
        data["alt"],
        caption,
    )


def expand(text):
    """`text` (Markdown) with each library reference replaced by its figure as an HTML block
    (blank lines around it, so Markdown leaves it as it is); a missing picture by nothing."""
    found = _images(referenced_ids(text))

    def replace(match):
        image = found.get(int(match.group(1)))
        html = figure_html(image) if image is not None else ""
        return f"\n{html}\n" if html else ""

    return REFERENCE.sub(replace, text or "")


def missing(text):
    """What of `text`'s library references shows no picture, in words an editor knows:
    ["the library picture [image:12], which is not in the library (deleted?)", "the library
    picture [image:3] inside a paragraph (put it on a line of its own)"]."""
    ids = referenced_ids(text)
    found = _images(ids)
    inline = dict.fromkeys(int(pk) for pk in ANYWHERE.findall(REFERENCE.sub("", text or "")))
    return [
        *(
            f"the library picture {reference(pk)}, which is not in the library (deleted?)"
            for pk in ids
            if pk not in found or not found[pk].renditions
        ),
        *(
            f"the library picture {reference(pk)} inside a paragraph (put it on a line of its own)"
            for pk in inline
        ),
    ]


def stories_showing(image_pk):
    """The stories whose body refers to library picture `image_pk`."""
    from .models import Article

    return Article.objects.filter(body__contains=reference(image_pk))


def refresh_stories(image_pk, using=None):
    """Render again the stored HTML of every story showing library picture `image_pk` (its alt
    text, caption or files changed, or it was deleted) and purge their pages."""
    from .models import Article

    stories = list(stories_showing(image_pk).using(using or "default"))
    for story in stories:
        story.render_body()
    if stories:
        Article.objects.using(using or "default").bulk_update(
            stories, ["body_html", "body_rendered_with"]
        )
        announce(*map(tag_for, stories), using=using)


def _live_entries_showing(image, using):
    """Purge the live entries of the stories whose entries show `image`."""
    from .models.live import live_tag

    stories = image.live_entries.using(using).values_list("article_id", flat=True).distinct()
    announce(*(live_tag(pk) for pk in stories), using=using)


def _push_entries_showing(image, using):
    """Open pages of live stories get the entries showing `image` again (its alt text or
    caption changed), as after an edit of those entries."""
    from newsroom import grip

    from . import live

    for entry in image.live_entries.using(using).select_related("author", "library_image"):
        grip.publish_on_commit(
            live.changes_channel(entry.article_id), live.entry_event(entry, new=False), using=using
        )


def _image_saved(sender, instance, created, using, raw=False, **kwargs):
    if raw:
        return
    refresh_stories(instance.pk, using=using)
    if not created:
        _live_entries_showing(instance, using)
        _push_entries_showing(instance, using)


def _image_deleting(sender, instance, using, **kwargs):
    _live_entries_showing(instance, using)  # before their entries lose it


def _image_deleted(sender, instance, using, **kwargs):
    from . import images

    images.delete_files_on_commit(images.hero_files(instance, **instance.PICTURE_FILES))
    refresh_stories(instance.pk, using=using)


def connect():
    from .models import LibraryImage

    post_save.connect(_image_saved, sender=LibraryImage, dispatch_uid="library.image.saved")
    pre_delete.connect(_image_deleting, sender=LibraryImage, dispatch_uid="library.image.deleting")
    post_delete.connect(_image_deleted, sender=LibraryImage, dispatch_uid="library.image.deleted")
