"""Someone uploads a booby-trapped image or pokes at media URLs: polyglots lose their payload,
photos lose their location, bombs and SVGs are refused, media is served inert."""

import io
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from articles.images import process_hero_image
from articles.models import Article

from .factories import image_bytes, make_article, make_section, make_user

pytestmark = pytest.mark.django_db

PAYLOAD = b"<html><script>alert(document.cookie)</script></html>"


def uploaded(article, name, data):
    article.hero_image = SimpleUploadedFile(name, data)
    article.hero_alt = "A picture"
    return process_hero_image(article)


def stored_files(article, renditions):
    names = [article.hero_image.name, *(r["name"] for r in renditions)]
    return {name: default_storage.open(name).read() for name in names}


def test_png_polyglot_loses_its_html_tail_and_text_chunks():
    """A valid PNG with HTML after IEND and script in a text chunk is stored without either."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    buffer = io.BytesIO()
    Image.new("RGB", (900, 500), (200, 30, 30)).save(buffer, format="PNG", pnginfo=info)
    polyglot = buffer.getvalue() + PAYLOAD
    assert b"<script>" in polyglot and Image.open(io.BytesIO(polyglot)).size == (900, 500)
    article = make_article()
    for name, data in stored_files(article, uploaded(article, "trap.png", polyglot)).items():
        assert b"<script" not in data and b"<html" not in data, name


def test_html_smuggled_into_jpeg_comment_is_dropped():
    """Script hidden in a JPEG comment segment does not survive re-encoding."""
    buffer = io.BytesIO()
    Image.new("RGB", (900, 500), (20, 90, 30)).save(buffer, format="JPEG", comment=PAYLOAD)
    article = make_article()
    files = stored_files(article, uploaded(article, "trap.jpg", buffer.getvalue()))
    for name, data in files.items():
        assert b"<script" not in data, name


def test_gps_position_and_camera_details_are_stripped():
    """EXIF with GPS coordinates and the camera's serial is gone from every stored file."""
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0xA431] = "SERIAL-12345"  # BodySerialNumber
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 5.5), 3: "E", 4: (4.0, 53.0, 2.1)}  # GPSInfo
    buffer = io.BytesIO()
    Image.new("RGB", (1300, 700), (1, 2, 3)).save(buffer, format="JPEG", exif=exif.tobytes())
    original = buffer.getvalue()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    article = make_article()
    files = stored_files(article, uploaded(article, "holiday.jpg", original))
    for name, data in files.items():
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif().get_ifd(0x8825), name
            assert not image.getexif(), name
        assert b"SpyCam" not in data and b"SERIAL-12345" not in data, name


def test_gps_in_xmp_metadata_is_stripped():
    """Location written as XMP (as phones and editors do) is gone too."""
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        b'exif:GPSLatitude="52,22.1N"/></rdf:RDF></x:xmpmeta>'
    )
    for fmt, name in (("JPEG", "x.jpg"), ("WEBP", "x.webp")):
        buffer = io.BytesIO()
        Image.new("RGB", (600, 400), (9, 9, 9)).save(buffer, format=fmt, xmp=xmp)
        assert b"GPSLatitude" in buffer.getvalue()
        article = make_article()
        files = stored_files(article, uploaded(article, name, buffer.getvalue()))
        for stored, data in files.items():
            assert b"GPSLatitude" not in data, stored


def test_rotation_from_exif_is_kept_although_exif_is_dropped():
    """A portrait photo stored as landscape plus an orientation tag is saved upright."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buffer = io.BytesIO()
    Image.new("RGB", (800, 400), (5, 5, 5)).save(buffer, format="JPEG", exif=exif.tobytes())
    article = make_article()
    uploaded(article, "portrait.jpg", buffer.getvalue())
    with Image.open(default_storage.open(article.hero_image.name)) as image:
        assert image.size == (400, 800)


def _png_claiming(width, height):
    def chunk(kind, payload):
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


@pytest.fixture
def editor(client):
    user = make_user(groups=["Editors"])
    client.force_login(user)
    return user


def post_hero(client, editor, name, data):
    form = {
        "title": "Upload test",
        "slug": "upload-test",
        "standfirst": "Standfirst.",
        "body": "Body.",
        "status": Article.Status.DRAFT,
        "section": make_section().pk,
        "author": editor.pk,
        "hero_alt": "Alt text",
        "hero_caption": "",
        "hero_credit": "",
        "hero_image": SimpleUploadedFile(name, data),
    }
    return client.post(reverse("admin:articles_article_add"), form)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bomb.png", _png_claiming(60_000, 60_000), "decompression bomb"),
        ("bomb2.png", _png_claiming(9_000, 9_000), "megapixels"),
        ("logo.svg", SVG, "JPEG, PNG or WebP"),
        ("logo.png", SVG, "not an image we accept"),
        ("page.jpg", PAYLOAD, "not an image we accept"),
        ("empty.png", b"", "empty"),
        ("anim.gif", image_bytes("GIF"), "JPEG, PNG or WebP"),
    ],
)
def test_admin_upload_of_a_dangerous_file_is_a_form_error(client, editor, name, data, message):
    """Bombs, SVGs, HTML named as images and empty files come back as a message by the field."""
    response = post_hero(client, editor, name, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message.lower() in " ".join(errors["hero_image"]).lower()
    assert not Article.objects.filter(slug="upload-test").exists()


def test_admin_upload_of_a_polyglot_stores_a_clean_image(client, editor):
    """Through the admin, a PNG polyglot is accepted as a picture and stored without its tail."""
    response = post_hero(client, editor, "trap.png", image_bytes("PNG") + PAYLOAD)
    assert response.status_code == 302
    article = Article.objects.get(slug="upload-test")
    assert PAYLOAD not in default_storage.open(article.hero_image.name).read()


@pytest.mark.parametrize(
    "path",
    [
        "/media/../manage.py",
        "/media/..%2fmanage.py",
        "/media/%2e%2e/%2e%2e/etc/passwd.jpg",
        "/media/..%252f..%252fetc/passwd.jpg",
        "/media/heroes/..\\..\\settings.jpg",
        "/media//etc/hostname.jpg",
        "/media/%00.jpg",
        "/media/heroes/photo.jpg%00.html",
        "/media/./../newsroom/settings.py",
    ],
)
def test_media_path_traversal_is_a_plain_404(client, path):
    """No encoding of ../ or NUL reaches a file outside the media folder; each is a 404."""
    response = client.get(path)
    assert response.status_code == 404
    assert b"SECRET_KEY" not in response.content and b"root:" not in response.content


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("a.jpg", "image/jpeg"),
        ("b.JPEG", "image/jpeg"),
        ("c.png", "image/png"),
        ("d.webp", "image/webp"),
    ],
)
def test_every_media_file_is_served_inert_with_a_fixed_type(client, name, content_type):
    """Whatever is inside, media answers with the type its extension allows, nosniff, and a
    sandboxing CSP, so a smuggled HTML page never runs on our origin."""
    stored = default_storage.save(f"heroes/{name}", ContentFile(PAYLOAD))
    for method in (client.get, client.head):
        response = method(f"/media/{stored}")
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert "default-src 'none'" in response["Content-Security-Policy"]
        # Embeddable by feed readers; the sandbox CSP and fixed type keep it inert.
        assert response["Cross-Origin-Resource-Policy"] == "cross-origin"


@pytest.mark.parametrize(
    "name", ["x.html", "x.svg", "x.js", "x.xml", "x", ".htaccess", "x.jpg.html"]
)
def test_media_files_of_other_types_are_never_served(client, name):
    """Files in storage that are not JPEG, PNG or WebP by name are 404, not served as-is."""
    stored = default_storage.save(f"heroes/{name}", ContentFile(PAYLOAD))
    assert client.get(f"/media/{stored}").status_code == 404


def test_media_rejects_unsafe_methods(client):
    """Media is read-only: POST, PUT and DELETE get 405."""
    stored = default_storage.save("heroes/z.jpg", ContentFile(image_bytes("JPEG")))
    for method in (client.post, client.put, client.delete):
        assert method(f"/media/{stored}").status_code == 405
    assert default_storage.exists(stored)


@pytest.mark.parametrize(
    "kind",
    ["name too long", "path too long", "folder", "file as folder", "symlink loop", "NUL"],
)
def test_any_file_system_error_reading_media_is_a_404(client, settings, kind):
    """Whatever the file system says about a media name (ENAMETOOLONG, EISDIR, ENOTDIR, ELOOP,
    a NUL byte...), the answer is a plain 404, never a 500."""
    root = settings.MEDIA_ROOT
    (root / "heroes").mkdir(parents=True)
    (root / "heroes" / "folder.jpg").mkdir()
    (root / "heroes" / "file.jpg").write_bytes(image_bytes("JPEG"))
    (root / "heroes" / "loop.jpg").symlink_to(root / "heroes" / "loop.jpg")
    path = {
        "name too long": "heroes/" + "x" * 256 + ".jpg",
        "path too long": "/".join(["y" * 200] * 25) + ".jpg",
        "folder": "heroes/folder.jpg",
        "file as folder": "heroes/file.jpg/inside.jpg",
        "symlink loop": "heroes/loop.jpg",
        "NUL": "heroes/a%00b.jpg",
    }[kind]
    for method in (client.get, client.head):
        assert method(f"/media/{path}").status_code == 404
