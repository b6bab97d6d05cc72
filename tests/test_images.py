"""An editor uploads a hero image: good pictures become renditions, bad files are refused."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from articles.images import process_hero_image, validate_hero_image

from .factories import image_bytes, make_article

pytestmark = pytest.mark.django_db


def upload(name, content, content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "fmt"), [("photo.jpg", "JPEG"), ("photo.png", "PNG"), ("photo.webp", "WEBP")]
)
def test_jpeg_png_and_webp_are_accepted(name, fmt):
    """The three web formats pass validation."""
    validate_hero_image(upload(name, image_bytes(fmt)))


def test_svg_is_refused():
    """An SVG (which can carry script) is refused with a clear message."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(ValidationError, match="JPEG, PNG or WebP"):
        validate_hero_image(upload("logo.svg", svg, "image/svg+xml"))


def test_svg_renamed_to_png_is_refused():
    """An SVG with a .png name is not an image we accept."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'
    with pytest.raises(ValidationError, match="not an image we accept"):
        validate_hero_image(upload("logo.png", svg, "image/png"))


def test_content_not_matching_extension_is_refused():
    """A PNG named .jpg is refused: the name must say what the file is."""
    with pytest.raises(ValidationError, match="content is PNG"):
        validate_hero_image(upload("photo.jpg", image_bytes("PNG")))


def test_truncated_image_is_refused():
    """Half a JPEG is refused as damaged."""
    data = image_bytes("JPEG", size=(800, 600))
    with pytest.raises(ValidationError, match="damaged or truncated"):
        validate_hero_image(upload("half.jpg", data[: len(data) // 2]))


def _png_header_claiming(width, height):
    """A tiny PNG whose header claims a huge canvas: the classic decompression bomb."""

    def chunk(kind, payload):
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * 3 * 16
    idat = zlib.compress(row * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused():
    """A small file that claims 50,000 × 50,000 pixels is refused before it is decoded."""
    with pytest.raises(ValidationError, match="too large|megapixels|bomb"):
        validate_hero_image(upload("bomb.png", _png_header_claiming(50_000, 50_000), "image/png"))


def test_image_over_40_megapixels_is_refused():
    """The pixel limit is 40 megapixels, whatever the file size."""
    with pytest.raises(ValidationError, match="40 megapixels"):
        validate_hero_image(upload("big.png", _png_header_claiming(8000, 6000), "image/png"))


def test_file_over_10_mb_is_refused(settings):
    """Files over the byte limit are refused with the limit in the message."""
    settings.HERO_IMAGE_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="limit is"):
        validate_hero_image(upload("photo.jpg", image_bytes("JPEG", size=(600, 400))))


def test_renditions_are_webp_at_several_widths_and_exif_is_gone():
    """Processing re-encodes the original without EXIF and makes WebP renditions."""
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera make
    buffer = io.BytesIO()
    Image.new("RGB", (1700, 900), (10, 20, 30)).save(buffer, format="JPEG", exif=exif)
    data = buffer.getvalue() + b"<html><script>alert(1)</script></html>"
    article = make_article(hero_alt="A test picture")
    article.hero_image = upload("photo.jpg", data)
    renditions = process_hero_image(article)
    assert [r["width"] for r in renditions] == [480, 800, 1200, 1600]
    for rendition in renditions:
        with Image.open(article.hero_image.storage.open(rendition["name"])) as image:
            assert image.format == "WEBP"
            assert image.width == rendition["width"]
    stored = article.hero_image.read()
    assert b"SecretCam" not in stored
    assert b"<script>" not in stored
