"""An editor uploads a hero image: good pictures become renditions, bad files are refused."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from articles.images import process_hero_image, validate_hero_image

from .factories import image_bytes, make_article, media_files

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


# Through the admin form, as an editor uploads: nothing refused or failed stays in MEDIA_ROOT.


@pytest.fixture
def editor(client):
    from .factories import make_user

    client.force_login(make_user(groups=["Editors"]))
    return client


def article_form(editor_client, data, name, **fields):
    from django.contrib.auth import get_user_model

    from .factories import make_section

    user = get_user_model().objects.get(pk=editor_client.session["_auth_user_id"])
    form = {
        "title": "Upload test",
        "slug": "upload-test",
        "standfirst": "Standfirst.",
        "body": "Body.",
        "status": "draft",
        "section": make_section().pk,
        "author": user.pk,
        "hero_alt": "Alt text",
        "hero_caption": "",
        "hero_credit": "",
        "hero_image": SimpleUploadedFile(name, data) if data is not None else "",
        **fields,
    }
    return {key: value for key, value in form.items() if value is not None}


def add_article(editor_client, data, name="photo.png", **fields):
    from django.urls import reverse

    form = article_form(editor_client, data, name, **fields)
    return editor_client.post(reverse("admin:articles_article_add"), form)


def png(size, mode="RGB"):
    return image_bytes_of(Image.new(mode, size), "PNG")


def image_bytes_of(image, fmt):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_a_tall_narrow_png_gets_renditions_through_the_admin(editor, settings):
    """A 100 × 20,000 PNG (2 megapixels) is saved with WebP renditions WebP can hold."""
    from articles.models import Article

    response = add_article(editor, png((100, 20_000)), "tall.png")
    assert response.status_code == 302
    article = Article.objects.get(slug="upload-test")
    assert article.hero_renditions
    for rendition in article.hero_renditions:
        assert rendition["height"] <= 16383
        with Image.open(article.hero_image.storage.open(rendition["name"])) as image:
            assert image.size == (rendition["width"], rendition["height"])
    stored = {article.hero_image.name, *(r["name"] for r in article.hero_renditions)}
    assert set(media_files(settings)) == stored


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("half.jpg", image_bytes("JPEG", size=(800, 600))[:3000]),
        ("bomb.png", _png_header_claiming(50_000, 50_000)),
        ("big.png", _png_header_claiming(8000, 6000)),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("photo.jpg", image_bytes("PNG")),
    ],
)
def test_a_refused_upload_leaves_no_file_behind(editor, settings, name, data):
    """A refused picture is a form error and nothing of it is in MEDIA_ROOT."""
    response = add_article(editor, data, name)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["hero_image"]
    assert media_files(settings) == []


def test_a_picture_pillow_cannot_convert_is_a_form_error_and_leaves_nothing(
    editor, settings, monkeypatch
):
    """Whatever fails while converting an accepted picture is said beside the field."""
    from articles import images

    def failing_encode(image, image_format, **options):
        raise OSError("encoder error -2")

    monkeypatch.setattr(images, "_encode", failing_encode)
    response = add_article(editor, png((900, 500)))
    assert response.status_code == 200
    assert "could not be converted" in " ".join(
        response.context["adminform"].form.errors["hero_image"]
    )
    assert media_files(settings) == []


def test_storage_failing_half_way_leaves_no_file_behind(editor, settings, monkeypatch):
    """If storing the renditions fails after the original is stored, the original goes too, and
    the editor gets the form back saying so (tests/test_full_disk.py does it on a real full
    disk where the tests may mount one)."""
    from django.core.files.storage import default_storage

    from articles.models import Article

    default_storage.exists("")  # the lazy storage is set up: its class can be patched
    storage_class = type(default_storage._wrapped)
    real_save = storage_class.save
    saved = []

    def save_then_fail(storage, name, content, *args, **kwargs):
        if saved:
            raise OSError("No space left on device")
        saved.append(name)
        return real_save(storage, name, content, *args, **kwargs)

    monkeypatch.setattr(storage_class, "save", save_then_fail)
    response = add_article(editor, png((900, 500)))
    assert response.status_code == 200
    assert "The image could not be stored" in " ".join(
        response.context["adminform"].form.errors["hero_image"]
    )
    assert saved and media_files(settings) == []
    assert not Article.objects.filter(slug="upload-test").exists()


def test_an_error_after_the_files_are_stored_deletes_them(editor, settings, monkeypatch):
    """If the article is not saved after all, the picture stored for it is deleted again."""
    from articles.admin import ArticleAdmin

    def failing_log(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ArticleAdmin, "log_addition", failing_log)
    with pytest.raises(RuntimeError, match="database went away"):
        add_article(editor, png((900, 500)))
    assert media_files(settings) == []


def test_replaced_removed_and_deleted_pictures_leave_no_files(
    editor, settings, django_capture_on_commit_callbacks
):
    """Replacing a hero image deletes the old files once saved; so do clearing it and
    deleting the article."""
    from django.urls import reverse

    from articles.models import Article

    with django_capture_on_commit_callbacks(execute=True):
        assert add_article(editor, png((900, 500)), "first.png").status_code == 302
    article = Article.objects.get(slug="upload-test")
    first = set(media_files(settings))
    assert article.hero_image.name in first

    change = reverse("admin:articles_article_change", args=[article.pk])
    with django_capture_on_commit_callbacks(execute=True):
        form = article_form(editor, png((700, 400)), "second.png")
        assert editor.post(change, form).status_code == 302
    article.refresh_from_db()
    second = set(media_files(settings))
    assert not first & second
    assert second == {article.hero_image.name, *(r["name"] for r in article.hero_renditions)}

    with django_capture_on_commit_callbacks(execute=True):
        form = article_form(editor, None, "", **{"hero_image-clear": "on", "hero_image": None})
        assert editor.post(change, form).status_code == 302
    assert media_files(settings) == []

    with django_capture_on_commit_callbacks(execute=True):
        response = add_article(editor, png((900, 500)), "third.png", slug="third")
        assert response.status_code == 302
    assert media_files(settings)
    with django_capture_on_commit_callbacks(execute=True):
        Article.objects.filter(slug__in=["upload-test", "third"]).delete()
    assert media_files(settings) == []
