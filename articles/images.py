"""Hero images: validate uploads, re-encode them, make WebP renditions once at upload."""

import io
import os
import warnings

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

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


def _prepared(image):
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    # Only pixels and the colour profile go on: Pillow would otherwise write a JPEG comment back.
    image.info = {key: value for key, value in image.info.items() if key == "icc_profile"}
    return image


def process_hero_image(article):
    """Re-encode the uploaded original (dropping EXIF/GPS and anything hidden after the pixels)
    and store WebP renditions at the configured widths. Returns the renditions list."""
    field_file = article.hero_image
    previous_name = field_file.name if field_file._committed else None
    image, image_format = _open_checked(field_file.file)
    image = _prepared(image)
    options = {"JPEG": {"quality": 88, "optimize": True}, "PNG": {"optimize": True}}.get(
        image_format, {"quality": 88}
    )
    if image_format == "JPEG" and image.mode == "RGBA":
        image = image.convert("RGB")
    clean_bytes = _encode(image, image_format, **options)
    field_file.save(os.path.basename(field_file.name), ContentFile(clean_bytes), save=False)
    if previous_name and previous_name != field_file.name:
        default_storage.delete(previous_name)

    stem = os.path.splitext(field_file.name)[0]
    renditions = []
    widths = [w for w in settings.HERO_RENDITION_WIDTHS if w <= image.width]
    if image.width < max(settings.HERO_RENDITION_WIDTHS):
        widths.append(image.width)
    for width in sorted(set(widths)):
        height = round(image.height * width / image.width)
        resized = image.resize((width, height), Image.Resampling.LANCZOS)
        name = default_storage.save(
            f"{stem}-{width}w.webp", ContentFile(_encode(resized, "WEBP", quality=80))
        )
        renditions.append({"name": name, "width": width, "height": height})
    return renditions


class HeroImageFormField(forms.ImageField):
    """Runs our checks before Django's generic "not an image" so editors see the real reason
    (an SVG, a bomb, a mislabelled or truncated file)."""

    def to_python(self, data):
        if data not in self.empty_values and getattr(data, "size", 0):
            validate_hero_image(data)
        return super().to_python(data)
