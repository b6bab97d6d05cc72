"""An editor uploads a hero image while the media disk is full: the form comes back with what
was typed and a clear message, and no partial file is left to fill the disk further.

The disk is real: a 64 KiB tmpfs mounted for each test (which needs root or CAP_SYS_ADMIN;
elsewhere these tests are skipped and say why)."""

import io
import os
import shutil
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from articles.models import Article

from .factories import image_bytes, make_section, make_user

pytestmark = pytest.mark.django_db

NOT_STORED = "The image could not be stored"


@pytest.fixture
def tiny_media(settings, tmp_path):
    """MEDIA_ROOT on a 64 KiB tmpfs of its own."""
    root = tmp_path / "tiny-media"
    root.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no `mount` command here: the full-disk tests need a real small filesystem")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            "cannot mount a 64 KiB tmpfs (needs root or CAP_SYS_ADMIN): "
            f"{mounted.stderr.strip() or mounted.returncode}"
        )
    settings.MEDIA_ROOT = root
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root)], check=True)


@pytest.fixture
def editor(client):
    user = make_user("edna", groups=["Editors"], first_name="Edna", last_name="Editor")
    client.force_login(user)
    return user


def noise_jpeg(width, height):
    """A JPEG that does not compress: its size on disk is predictable (~0.85 byte a pixel)."""
    pixels = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    pixels.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def files_in(root):
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _dirs, names in os.walk(root)
        for name in names
    )


def article_form(editor, picture, **overrides):
    return {
        "title": "Gold on the last lap",
        "slug": "gold-on-the-last-lap",
        "standfirst": "A finish nobody will forget.",
        "body": "Typed for an hour, **never lost**.",
        "status": Article.Status.DRAFT,
        "published_at_0": "",
        "published_at_1": "",
        "section": make_section().pk,
        "author": editor.pk,
        "hero_image": SimpleUploadedFile("finish.jpg", picture),
        "hero_alt": "Skaters crossing the line",
        "hero_caption": "The last lap",
        "hero_credit": "Newsroom",
        **overrides,
    }


@pytest.mark.parametrize(
    ("size", "what_fills_the_disk"),
    [((400, 300), "the original"), ((300, 200), "a rendition after the original")],
)
def test_full_disk_keeps_the_form_and_leaves_no_partial_file(
    client, editor, tiny_media, size, what_fills_the_disk
):
    """The disk fills while the original or a rendition is written: the editor gets the form
    back (200, not a 500) with everything typed and a message beside the image saying it could
    not be stored; no article is saved and no file, whole or partial, is left behind."""
    response = client.post(
        reverse("admin:articles_article_add"), article_form(editor, noise_jpeg(*size))
    )
    assert response.status_code == 200, what_fills_the_disk
    form = response.context["adminform"].form
    assert NOT_STORED in " ".join(form.errors["hero_image"])
    html = response.content.decode()
    for typed in [
        "Gold on the last lap",
        "A finish nobody will forget.",
        "never lost",
        "Skaters crossing the line",
        "The last lap",
    ]:
        assert typed in html
    assert NOT_STORED in html
    assert not Article.objects.exists()
    assert files_in(tiny_media) == []


def test_after_a_full_disk_a_picture_that_fits_is_stored(client, editor, tiny_media):
    """A failed upload leaves the disk as it was, so the next one that fits succeeds."""
    client.post(reverse("admin:articles_article_add"), article_form(editor, noise_jpeg(400, 300)))
    small = image_bytes("JPEG", size=(600, 300))
    response = client.post(reverse("admin:articles_article_add"), article_form(editor, small))
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get()
    assert sorted([article.hero_image.name, *(r["name"] for r in article.hero_renditions)]) == (
        files_in(tiny_media)
    )


def test_files_are_stored_whole_under_their_own_names(settings, tmp_path):
    """Writing under a temporary name first changes nothing a caller sees: two files saved under
    one name both stay, under two names, and no temporary file is left."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = tmp_path / "media"
    first = default_storage.save("heroes/same.jpg", ContentFile(b"first"))
    second = default_storage.save("heroes/same.jpg", ContentFile(b"second"))
    assert first == "heroes/same.jpg" and second != first
    assert default_storage.open(first).read() == b"first"
    assert default_storage.open(second).read() == b"second"
    assert files_in(settings.MEDIA_ROOT) == sorted([first, second])
