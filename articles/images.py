"""Hero images: validate uploads, re-encode them, make WebP renditions once at upload.

An upload is rendered in memory while the form is validated (render_hero_image), so whatever
Pillow cannot do with it is a form error, and stored only when the article is saved
(store_hero_image). No file is left in storage that no article points at: a failed store
deletes what it stored, and replaced or removed pictures go once the change commits."""

import errno
import io
import os
import warnings
from dataclasses import dataclass
from functools import partial

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

FORMATS_BY_EXTENSION = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
}
ALLOWED = "Upload a JPEG, PNG or WebP image."


def _open_checked(file):
    """Open and fully decode an image, turning every way it can be bad into a ValidationError."""
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file)
            image_format = image.format
            width, height = image.size
            if width * height > settings.HERO_IMAGE_MAX_PIXELS:
                raise ValidationError(
                    f"This image is {width}×{height} pixels; the limit is "
                    f"{settings.HERO_IMAGE_MAX_PIXELS // 1_000_000} megapixels.",
                    code="too_many_pixels",
                )
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValidationError(
            "This image is too large to decode safely (possible decompression bomb).",
            code="bomb",
        ) from error
    except UnidentifiedImageError as error:
        raise ValidationError(f"This file is not an image we accept. {ALLOWED}") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            "This image is damaged or truncated and cannot be read.", code="truncated"
        ) from error
    finally:
        file.seek(0)
    return image, image_format


def validate_hero_image(field_file):
    """Model validator for Article.hero_image."""
    file = getattr(field_file, "file", field_file)
    if getattr(field_file, "_committed", False) and not hasattr(file, "content_type"):
        return  # already stored and validated when it was uploaded
    name = getattr(field_file, "name", "") or ""
    extension = os.path.splitext(name)[1].lower()
    if extension not in FORMATS_BY_EXTENSION:
        raise ValidationError(f"“{extension or name}” files are not accepted. {ALLOWED}")
    size = getattr(file, "size", None) or getattr(field_file, "size", 0)
    if size > settings.HERO_IMAGE_MAX_BYTES:
        raise ValidationError(
            f"This file is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{settings.HERO_IMAGE_MAX_BYTES // 1024 // 1024} MB.",
            code="too_big",
        )
    _image, image_format = _open_checked(file)
    if image_format not in set(FORMATS_BY_EXTENSION.values()):
        raise ValidationError(f"This is a {image_format} image. {ALLOWED}")
    if FORMATS_BY_EXTENSION[extension] != image_format:
        raise ValidationError(
            f"The file is named “{extension}” but its content is {image_format}. "
            "Save it with the right extension and upload it again.",
            code="mismatch",
        )


def _encode(image, image_format, **options):
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


# Browsers and WebP alike: a WebP image is at most 16,383 pixels wide and tall.
WEBP_MAX_SIDE = 16383
SRGB = ImageCms.createProfile("sRGB")
SIXTEEN_BIT_GREYS = ("I", "I;16", "I;16B", "I;16L", "I;16N")
ORIGINAL_OPTIONS = {"JPEG": {"quality": 88, "optimize": True}, "PNG": {"optimize": True}}


def _prepared(image):
    """The picture as a browser shows it, as 8-bit RGB or RGBA sRGB pixels: upright (EXIF
    orientation), transparency kept (palette, grey and alpha), 16-bit greys scaled rather than
    clipped to white, colour profiles (CMYK ones included) applied rather than dropped."""
    image = ImageOps.exif_transpose(image)
    profile = image.info.get("icc_profile")
    has_alpha = "A" in image.mode or "transparency" in image.info
    if image.mode in SIXTEEN_BIT_GREYS:
        image = image.convert("I").point(lambda value: value / 257).convert("L")
    if image.mode == "CMYK" and profile:
        image = _to_srgb(image, profile) or image
        profile = None
    mode = "RGBA" if has_alpha else "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    if profile:
        image = _to_srgb(image, profile) or image
    # Only the pixels go on: Pillow would otherwise write a JPEG comment or a profile back.
    image.info = {}
    return image


def _to_srgb(image, profile):
    """The image's pixels converted from its embedded ICC profile to sRGB, or None when the
    profile is unusable or not for this kind of pixels (then the pixels are taken as sRGB,
    as browsers do)."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, SRGB, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def rendition_sizes(width, height):
    """The (width, height) of each WebP rendition of a width × height picture: the configured
    widths it is wide enough for (its own width when narrower than the widest), each shrunk
    if needed to fit WebP's 16,383 pixels, never less than 1 pixel a side."""
    widths = [w for w in settings.HERO_RENDITION_WIDTHS if w <= width]
    if width < max(settings.HERO_RENDITION_WIDTHS):
        widths.append(width)
    sizes = []
    for wanted in sorted(set(widths)):
        scale = min(wanted / width, WEBP_MAX_SIDE / height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if size not in sizes:
            sizes.append(size)
    return sizes


@dataclass(frozen=True)
class RenderedImage:
    """An upload made safe, in memory: the re-encoded original and its WebP renditions."""

    name: str
    original: bytes
    renditions: tuple  # of (width, height, WebP bytes)


def render_hero_image(file, name=None):
    """Re-encode an uploaded picture (dropping EXIF/GPS and anything hidden after the pixels)
    and make its WebP renditions, all in memory. Anything Pillow cannot do with a picture the
    limits accept becomes a ValidationError, for the form to show."""
    image, image_format = _open_checked(file)
    try:
        image = _prepared(image)
        if image_format == "JPEG" and image.mode == "RGBA":
            image = image.convert("RGB")
        original = _encode(
            image, image_format, **ORIGINAL_OPTIONS.get(image_format, {"quality": 88})
        )
        renditions = tuple(
            (
                width,
                height,
                _encode(
                    image.resize((width, height), Image.Resampling.LANCZOS), "WEBP", quality=80
                ),
            )
            for width, height in rendition_sizes(image.width, image.height)
        )
    except (OSError, ValueError, MemoryError, Image.DecompressionBombError) as error:
        raise ValidationError(
            "This image could not be converted for the web. Save it again as an ordinary "
            "JPEG or PNG and upload that.",
            code="unconvertible",
        ) from error
    return RenderedImage(
        name=os.path.basename(name or getattr(file, "name", "") or "image"),
        original=original,
        renditions=renditions,
    )


class HeroImageNotStored(Exception):
    """Storage refused a hero image's files (a full disk, a quota, no permission). Nothing of
    the picture is left in storage; the message is for the editor, the cause is chained."""

    def __init__(self, error):
        reason = (
            "the disk is full"
            if error.errno in (errno.ENOSPC, errno.EDQUOT)
            else (f"the storage refused it ({error.strerror or type(error).__name__})")
        )
        super().__init__(
            f"The image could not be stored: {reason}. Nothing was saved, and what you typed is "
            "kept below: choose the image again and save, or save without it and tell the "
            "site's administrators."
        )


def store_hero_image(article, rendered, *, field="hero_image", renditions_field="hero_renditions"):
    """Store a rendered picture as the article's hero image (or, with `field` and
    `renditions_field`, as another model's picture: a live entry's). Returns its renditions
    list and every file name stored. If storing fails half way, what was stored is deleted
    again and HeroImageNotStored is raised (for any OSError); the files of the picture it
    replaces are deleted once the change commits."""
    names = {"field": field, "renditions_field": renditions_field}
    replaced = stored_hero_files(article, **names)
    image = getattr(article, field)
    stored, renditions = [], []
    try:
        image.save(rendered.name, ContentFile(rendered.original), save=False)
        stored.append(image.name)
        stem = os.path.splitext(image.name)[0]
        for width, height, data in rendered.renditions:
            name = default_storage.save(f"{stem}-{width}w.webp", ContentFile(data))
            stored.append(name)
            renditions.append({"name": name, "width": width, "height": height})
    except OSError as error:
        delete_files(stored)
        raise HeroImageNotStored(error) from error
    except BaseException:
        delete_files(stored)
        raise
    delete_files_on_commit([name for name in replaced if name not in stored])
    return renditions, stored


def hero_files(article, *, field="hero_image", renditions_field="hero_renditions"):
    """Every file of the hero image this article instance holds: original and renditions
    (`field`, `renditions_field`: another model's picture, as for `store_hero_image`)."""
    names = [rendition["name"] for rendition in getattr(article, renditions_field) or []]
    if getattr(article, field).name:
        names.append(getattr(article, field).name)
    return names


def stored_hero_files(article, *, field="hero_image", renditions_field="hero_renditions"):
    """Every file of the hero image the database holds for this article (none if unsaved)."""
    if article.pk is None:
        return []
    saved = (
        type(article)._default_manager.filter(pk=article.pk).only(field, renditions_field)
    ).first()
    return hero_files(saved, field=field, renditions_field=renditions_field) if saved else []


def picture(renditions, alt):
    """A stored picture as templates/partials/hero_picture.html needs it, or None without
    renditions: {"src", "srcset", "width", "height", "alt"}, the largest rendition as src."""
    if not renditions:
        return None
    largest = renditions[-1]
    return {
        "src": default_storage.url(largest["name"]),
        "srcset": ", ".join(f"{default_storage.url(r['name'])} {r['width']}w" for r in renditions),
        "width": largest["width"],
        "height": largest["height"],
        "alt": alt,
    }


def delete_files(names):
    """Delete these files from storage, those already gone included."""
    for name in names:
        default_storage.delete(name)


def delete_files_on_commit(names):
    """Delete these files once the current transaction commits (never if it rolls back)."""
    if names:
        transaction.on_commit(partial(delete_files, list(names)))


def process_hero_image(article):
    """Re-encode the article's newly uploaded hero image and store it with its WebP
    renditions at the configured widths. Returns the renditions list."""
    field_file = article.hero_image
    rendered = render_hero_image(field_file.file, field_file.name)
    renditions, _stored = store_hero_image(article, rendered)
    return renditions


class HeroImageFormField(forms.ImageField):
    """Runs our checks before Django's generic "not an image" so editors see the real reason
    (an SVG, a bomb, a mislabelled or truncated file)."""

    def to_python(self, data):
        if data not in self.empty_values and getattr(data, "size", 0):
            validate_hero_image(data)
        return super().to_python(data)
