"""Library pictures in story bodies: the one place a reference becomes HTML.

An editor puts ``[image:12]`` on a line of its own in a story's body (the story admin offers
the snippet beside the body, and a button that inserts it). Before the body's Markdown is
rendered, `expand` turns each reference into a ``<figure>`` with the picture's renditions as
``srcset``, its width, height, alt text and ``loading="lazy"`` (and its caption and credit);
the sanitiser keeps it since every address is the site's own upload. A reference to a picture
that is not in the library (deleted, or a number typed wrong) shows nothing, and `missing`
names it so that the editor is told on save.

A story's stored HTML holds its pictures' alt text and files: what follows a change of a
library picture is in articles/library_changes.py. This module reads only the pictures
themselves (articles/models/library.py), so the Markdown renderer that stories and live
entries use can call it without an import circle."""

import re

from django.utils.html import format_html

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
    from .models.library import LibraryImage

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
