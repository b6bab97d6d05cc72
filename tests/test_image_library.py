"""The image library: an editor uploads a picture once, finds it in the admin, puts it in a
story's body; readers get it with srcset, width, height, alt text and lazy loading; a
reference to a picture that is gone is said on save; the story's page is purged when the
picture's alt text changes."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from articles import library, markdown
from articles.models import Article, LibraryImage
from newsroom.caching import content_changed, tag_for

from .factories import (
    image_bytes,
    make_article,
    make_library_image,
    make_section,
    make_user,
    media_files,
)

pytestmark = pytest.mark.django_db

ADD = reverse("admin:articles_libraryimage_add")
LIST = reverse("admin:articles_libraryimage_changelist")


@pytest.fixture
def editor(client):
    user = make_user("editor", groups=["Editors"])
    client.force_login(user)
    client.user = user
    return client


def png(name="skater.png", size=(1600, 900)):
    return SimpleUploadedFile(name, image_bytes("PNG", size=size), "image/png")


def test_an_editor_uploads_a_picture_with_renditions(editor, settings):
    response = editor.post(ADD, {"image": png(), "alt": "Kok on the line", "caption": "Gold"})
    assert response.status_code == 302
    image = LibraryImage.objects.get()
    assert image.uploaded_by == editor.user
    widths = [r["width"] for r in image.renditions]
    assert len(widths) > 1 and widths == sorted(widths) and widths[-1] <= 1600
    stored = media_files(settings)
    assert image.image.name in stored and all(r["name"] in stored for r in image.renditions)


def test_alt_text_is_required_and_the_chosen_file_is_kept(editor, settings):
    """Forgetting the alt text keeps the chosen file; fixing it saves the picture with it."""
    refused = editor.post(ADD, {"image": png(), "alt": ""})
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "This field is required" in page and "Keeping <strong>skater.png</strong>" in page
    token = re.search(r'name="image__kept" value="([^"]+)"', page).group(1)
    saved = editor.post(ADD, {"alt": "Kok on the line", "image__kept": token})
    assert saved.status_code == 302
    assert LibraryImage.objects.get().renditions


@pytest.mark.parametrize("alt", ["\u200b\u200b", " \u2800 ", "\u3164", "\u0301\u0301"])
def test_alt_text_of_nothing_visible_is_refused(editor, settings, alt):
    """Alt text made only of zero-width, blank or combining characters describes nothing to a
    screen reader: refused like none at all, the chosen file kept."""
    refused = editor.post(ADD, {"image": png(), "alt": alt})
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "Describe the picture for readers who cannot see it." in page
    assert "Keeping <strong>skater.png</strong>" in page
    assert not LibraryImage.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not accepted"),
        ("x.png", b"not a picture", "not an image we accept"),
        ("x.jpg", image_bytes("PNG"), "its content is PNG"),
    ],
)
def test_a_refused_picture_is_a_form_error_and_stores_nothing(
    editor, settings, name, data, message
):
    response = editor.post(ADD, {"image": SimpleUploadedFile(name, data), "alt": "Alt"})
    assert response.status_code == 200 and message in response.content.decode()
    assert not LibraryImage.objects.exists()
    assert [f for f in media_files(settings) if not f.startswith("kept/")] == []


def test_the_library_lists_and_searches_pictures_with_their_reference(editor):
    kok = make_library_image(alt="Kok crossing the line")
    other = make_library_image(alt="The Thialf oval at night")
    page = editor.get(LIST, {"q": "Kok"}).content.decode()
    assert "Kok crossing the line" in page and f"[image:{kok.pk}]" in page
    assert "Thialf" not in page and f"[image:{other.pk}]" not in page


def test_the_story_form_offers_the_library_with_snippets_to_copy(editor):
    image = make_library_image()
    page = editor.get(reverse("admin:articles_article_add")).content.decode()
    assert f'<code class="library-snippet">[image:{image.pk}]</code>' in page
    assert f'data-insert="[image:{image.pk}]" hidden' in page  # shown by library_picker.js
    assert "js/library_picker.js" in page


def test_a_story_shows_a_library_picture_with_srcset_sizes_and_lazy_loading(client):
    image = make_library_image(alt="Kok crossing the line", caption="Gold", credit="ANP")
    story = make_article(body=f"First paragraph.\n\n[image:{image.pk}]\n\nLast paragraph.")
    page = client.get(story.get_absolute_url()).content.decode()
    (figure,) = re.findall(r"<figure><img [^>]*>.*?</figure>", page, re.S)
    largest = image.renditions[-1]
    assert 'alt="Kok crossing the line"' in figure and 'loading="lazy"' in figure
    assert f'width="{largest["width"]}" height="{largest["height"]}"' in figure
    assert figure.count(".webp ") == len(image.renditions)
    assert "<figcaption>Gold (ANP)</figcaption>" in figure
    assert markdown.removed_by_sanitiser(story.body) == []


def test_one_function_renders_a_reference_wherever_it_is_shown(client):
    """The live preview beside the body box renders a reference as the story page does."""
    image = make_library_image()
    body = f"[image:{image.pk}]"
    assert library.figure_html(image) in library.expand(body)
    assert markdown.render_markdown(body).count("<img ") == 1


def test_a_missing_library_picture_is_said_on_save_never_a_500(editor):
    article = make_article(author=editor.user)
    form = {
        "title": article.title,
        "slug": article.slug,
        "standfirst": article.standfirst,
        "body": "Before.\n\n[image:999999]\n\nAfter.",
        "status": article.status,
        "section": make_section().pk,
        "author": editor.user.pk,
        "published_at_0": "",
        "published_at_1": "",
        "hero_alt": "",
        "desk_version": str(article.desk_version),
    }
    response = editor.post(
        reverse("admin:articles_article_change", args=[article.pk]), form, follow=True
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "the library picture [image:999999], which is not in the library" in page
    article.refresh_from_db()
    assert "<img" not in article.body_html and "After." in article.body_html


def test_deleting_a_picture_renders_its_stories_again_and_reports_it(client, settings, committed):
    image = make_library_image()
    story = make_article(body=f"[image:{image.pk}]\n\nText.")
    assert "<img" in client.get(story.get_absolute_url()).content.decode()
    with committed():
        image.delete()
    page = client.get(story.get_absolute_url()).content.decode()
    assert "<figure><img" not in page
    assert media_files(settings) == []  # its files went with it
    assert markdown.removed_by_sanitiser(story.body)[0].startswith("the library picture")


def test_changing_the_alt_text_purges_the_stories_showing_it(client, committed):
    image = make_library_image(alt="Old words")
    showing = make_article(body=f"[image:{image.pk}]")
    other = make_article(body="[image:9999999] no")
    seen = []

    def record(tags, **kwargs):
        seen.append(set(tags))

    content_changed.connect(record)
    try:
        with committed():
            image.alt = "Kok crossing the line"
            image.save()
    finally:
        content_changed.disconnect(record)
    purged = set().union(*seen)
    assert tag_for(showing) in purged and tag_for(other) not in purged
    showing.refresh_from_db()
    assert 'alt="Kok crossing the line"' in showing.body_html
    assert 'alt="Kok crossing the line"' in client.get(showing.get_absolute_url()).content.decode()


def test_moderators_may_not_add_or_change_library_pictures(client):
    image = make_library_image()
    client.force_login(make_user("mod", groups=["Moderators"]))
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {"image": png(), "alt": "x"}).status_code == 403
    change = reverse("admin:articles_libraryimage_change", args=[image.pk])
    assert client.post(change, {"alt": "Changed"}).status_code == 403
    image.refresh_from_db()
    assert image.alt != "Changed" and Article.objects.count() == 0


def fail_storing_after_the_first_file(monkeypatch):
    from django.core.files.storage import default_storage

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
    return saved


def test_a_full_disk_is_a_form_error_and_leaves_no_file(editor, settings, monkeypatch):
    saved = fail_storing_after_the_first_file(monkeypatch)
    response = editor.post(ADD, {"image": png(), "alt": "Kok on the line"})
    assert response.status_code == 200
    assert "The image could not be stored" in response.content.decode()
    assert 'value="Kok on the line"' in response.content.decode()  # what was typed stays
    assert saved and media_files(settings) == [] and not LibraryImage.objects.exists()


def test_a_full_disk_when_replacing_an_entrys_picture_is_a_form_error(
    editor, settings, monkeypatch
):
    from .factories import make_live_entry

    entry = make_live_entry(body="Pair 3")
    change = reverse("admin:articles_liveentry_change", args=[entry.pk])
    saved = fail_storing_after_the_first_file(monkeypatch)
    response = editor.post(
        change, {"body": "Pair 3, edited", "picture_alt": "Kok", "picture_upload": png()}
    )
    assert response.status_code == 200
    assert "The image could not be stored" in response.content.decode()
    assert saved and media_files(settings) == []
    entry.refresh_from_db()
    assert entry.body == "Pair 3" and not entry.has_picture


def test_a_reference_on_a_line_of_its_own_as_browsers_send_it(client):
    """Browsers send a textarea's lines with \\r\\n; a reference inside a sentence stays text."""
    image = make_library_image()
    html = markdown.render_markdown(f"Before.\r\n\r\n  [image:{image.pk}] \r\n\r\nAfter.")
    assert html.count("<img ") == 1 and "<figure>" in html
    inline = markdown.render_markdown(f"See [image:{image.pk}] here.")
    assert "<img" not in inline and f"[image:{image.pk}]" in inline
    assert markdown.removed_by_sanitiser(f"See [image:{image.pk}] here.") == [
        f"the library picture [image:{image.pk}] inside a paragraph (put it on a line of its own)"
    ]
