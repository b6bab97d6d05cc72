"""Editors keep old addresses working by hand: the old links admin (/admin/articles/oldlink/)
lists and searches them, adds a 301 and deletes one, and refuses links that cannot work."""

import pytest
from django.urls import reverse

from articles.models import OldLink

from .factories import make_article, make_section, make_tag, make_user

pytestmark = pytest.mark.django_db

ADD = reverse("admin:articles_oldlink_add")


@pytest.fixture
def editor(client):
    client.force_login(make_user(groups=["Editors"]))
    return client


def add(editor, path, **targets):
    data = {"path": path, "article": "", "section": "", "tag": ""}
    data.update({name: obj.pk for name, obj in targets.items()})
    return editor.post(ADD, data)


def test_an_editor_adds_a_redirect_that_answers_301(editor, client):
    story = make_article(slug="new-name")
    response = add(editor, "/2019/03/02/old%20name/", article=story)
    assert response.status_code == 302, response.content.decode()
    link = OldLink.objects.get()
    assert link.path == "/2019/03/02/old name/"  # stored decoded, as requests are looked up
    client.logout()
    answer = client.get("/2019/03/02/old%20name/")
    assert answer.status_code == 301 and answer["Location"] == story.get_absolute_url()


def test_a_renamed_story_s_old_address_on_this_site_may_redirect(editor, client):
    """/stories/<old slug>/ is a 404 here now, so an old link there is used."""
    story = make_article(slug="renamed")
    assert add(editor, "/stories/before-the-rename/", article=story).status_code == 302
    assert client.get("/stories/before-the-rename/")["Location"] == story.get_absolute_url()


def test_a_wordpress_query_link_to_a_section(editor, client):
    section = make_section(slug="skating")
    assert add(editor, "/?cat=7", section=section).status_code == 302
    assert OldLink.objects.get().path == "/?cat=7"
    assert client.get("/?cat=7")["Location"] == section.get_absolute_url()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("2019/03/02/slug/", "must start with “/”"),
        ("https://old.example/2019/slug/", "Enter only the path"),
        ("//old.example/slug/", "Enter only the path"),
        ("/", "The site answers “/” itself"),
        ("/feed/", "The site answers “/feed/” itself"),
        ("/feed", "The site answers “/feed/” itself"),  # its other spelling
        ("/admin/", "The site answers “/admin/” itself"),
        ("/?s=skating", "Of query strings only WordPress’s plain links"),
        ("/old/?p=12", "Of query strings only WordPress’s plain links"),
    ],
)
def test_paths_that_cannot_work_are_refused(editor, path, message):
    response = add(editor, path, article=make_article())
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not OldLink.objects.exists()


def test_a_live_story_s_own_address_is_refused(editor):
    story = make_article(slug="on-the-site")
    response = add(editor, "/stories/on-the-site/", tag=make_tag())
    assert "The site answers “/stories/on-the-site/” itself" in response.content.decode()
    assert story.pk and not OldLink.objects.exists()


@pytest.mark.parametrize("targets", ["none", "two"])
def test_exactly_one_target(editor, targets):
    chosen = {} if targets == "none" else {"article": make_article(), "tag": make_tag()}
    response = add(editor, "/gone/", **chosen)
    assert "Choose exactly one place it leads to" in response.content.decode()
    assert not OldLink.objects.exists()


def test_the_same_path_twice_is_refused(editor):
    story = make_article()
    assert add(editor, "/gone/", article=story).status_code == 302
    assert "already exists" in add(editor, "/gone/", article=story).content.decode()


def test_editors_list_search_and_delete(editor, client):
    story = make_article(title="Kok wins gold")
    kept = OldLink.objects.create(path="/2020/01/01/kok/", article=story)
    other = OldLink.objects.create(path="/category/ice/", tag=make_tag(name="Ice"))
    listing = editor.get(reverse("admin:articles_oldlink_changelist"))
    page = listing.content.decode()
    assert "/2020/01/01/kok/" in page and "Story: Kok wins gold" in page and "Tag: Ice" in page
    found = editor.get(reverse("admin:articles_oldlink_changelist"), {"q": "kok wins"})
    assert list(found.context["cl"].result_list) == [kept]
    deleted = editor.post(
        reverse("admin:articles_oldlink_delete", args=[other.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302 and list(OldLink.objects.all()) == [kept]
    assert client.get("/category/ice/").status_code == 404
