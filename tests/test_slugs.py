"""Every web address is made the same way: names in any script keep their letters, no slug is
empty or meaningless, and none is taken twice, whether an editor, an import or code makes it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.importers import import_results
from articles.models import Article, Athlete, Competition, Event, Section, Tag
from newsroom.slugs import slug_text

from .factories import (
    make_article,
    make_athlete,
    make_competition,
    make_event,
    make_nation,
    make_section,
    make_user,
)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Søren Kragh", "soren-kragh"),
        ("Ærø Straße", "aero-strasse"),
        ("Nguyễn Thị Ánh Viên", "nguyen-thi-anh-vien"),
        ("たかぎ みほ", "takagi-miho"),
        ("タカギ ミホ", "takagi-miho"),
        ("高木美帆", "gao-mu-mei-fan"),
        ("김민선", "gim-min-seon"),
        ("Женщины 1000 м", "zhenshchiny-1000-m"),
        ("Ελλάδα", "ellada"),
        ("🏅🏅", "medal-medal"),
        ("Women's 1000 m", "womens-1000-m"),
        ("!!! ???", ""),
        ("", ""),
    ],
)
def test_letters_of_every_script_are_kept(text, slug):
    """Latin letters with accents, kana, Chinese characters, Hangul, Cyrillic and Greek are
    transliterated; punctuation alone gives nothing (the caller's fallback steps in)."""
    assert slug_text(text) == slug


def test_a_long_slug_is_cut_at_a_word():
    """A slug that is too long ends at a hyphen, not inside a word."""
    assert slug_text("Speed skating " * 20, max_length=30) == "speed-skating-speed-skating"


# --- Made by code: models' save and imports --------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "name", "slug"),
    [
        (lambda name: Section.objects.create(name=name), "Skøjteløb", "skojtelob"),
        (lambda name: Tag.objects.create(name=name), "Søren Kragh", "soren-kragh"),
        (lambda name: make_article(title=name, slug=""), "Kragh vinder på Ørestad", None),
        (lambda name: make_athlete(name=name, slug=""), "たかぎ みほ", "takagi-miho"),
        (lambda name: make_competition(name=name, slug=""), "Milano Cortina 2026", None),
    ],
)
def test_stories_sections_tags_athletes_and_competitions_get_a_slug_on_save(make, name, slug):
    """Saved without a slug, each kind of page gets one from its name or title."""
    made = make(name)
    assert made.slug == (slug or slug_text(name))
    assert made.slug == made.slug.encode("ascii").decode()


@pytest.mark.django_db
def test_names_with_nothing_readable_get_a_meaningful_unique_slug():
    """A tag of punctuation is tag, then tag-2; a headline of punctuation says it is a story of
    that day; an athlete says their nation."""
    assert Tag.objects.create(name="???").slug == "tag"
    assert Tag.objects.create(name="!!!").slug == "tag-2"
    story = make_article(title="?!", slug="")
    assert story.slug == f"story-{timezone.localdate(story.published_at):%Y-%m-%d}"
    athlete = make_athlete(name="…", slug="", nation=make_nation("JPN"))
    assert athlete.slug == "athlete-jpn"


@pytest.mark.django_db
def test_a_taken_slug_gets_a_suffix():
    """Two stories with the same headline have two addresses."""
    first = make_article(title="Leerdam wins gold", slug="")
    second = make_article(title="Leerdam wins gold", slug="")
    assert (first.slug, second.slug) == ("leerdam-wins-gold", "leerdam-wins-gold-2")
    saved_again = Article.objects.get(pk=first.pk)
    saved_again.save()
    assert saved_again.slug == "leerdam-wins-gold"


@pytest.mark.django_db
def test_the_same_event_at_two_competitions_gets_two_readable_slugs():
    """Women's 3000 m comes back every Games: each slug names its competition."""
    milano = make_competition(name="Milano Cortina 2026", slug="milano-cortina-2026")
    alps = make_competition(name="French Alps 2030", slug="french-alps-2030")
    first = make_event(competition=milano, name="Women's 3000 m", slug="")
    second = make_event(competition=alps, name="Women's 3000 m", slug="")
    assert first.slug == "milano-cortina-2026-speed-skating-womens-3000-m"
    assert second.slug == "french-alps-2030-speed-skating-womens-3000-m"


@pytest.mark.django_db
def test_imported_athletes_get_transliterated_slugs():
    """A results file with Danish and Japanese names makes readable athlete addresses; a
    namesake from another nation gets the nation's code."""
    event = make_event()
    data = (
        "athlete,nation,time\nSøren Kragh,DEN,1:12.31\n高木美帆,JPN,1:12.40\n"
        "Søren Kragh,NOR,1:12.50\n"
    )
    import_results(event=event, data=data.encode())
    slugs = {(a.name, a.nation.code): a.slug for a in Athlete.objects.select_related("nation")}
    assert slugs[("Søren Kragh", "DEN")] == "soren-kragh"
    assert slugs[("Søren Kragh", "NOR")] == "soren-kragh-nor"
    assert slugs[("高木美帆", "JPN")] == "gao-mu-mei-fan"


# --- Made by an editor in the admin ----------------------------------------------------------


@pytest.fixture
def editor(client):
    client.force_login(make_user(groups=["Editors"]))


@pytest.mark.django_db
def test_editor_leaves_the_slug_empty_and_the_server_makes_it(client, editor):
    """The admin's JavaScript drops letters it cannot map (Japanese); the server fills it in."""
    response = client.post(reverse("admin:articles_tag_add"), {"name": "たかぎ みほ", "slug": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Tag.objects.get(name="たかぎ みほ").slug == "takagi-miho"


@pytest.mark.django_db
def test_editor_types_a_slug_with_accents_and_it_is_normalised(client, editor):
    """What an editor types in the slug box is made a slug, not refused."""
    response = client.post(
        reverse("admin:articles_section_add"),
        {"name": "Danish cycling", "slug": "Søren Kragh Special", "description": "", "position": 0},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Section.objects.get(name="Danish cycling").slug == "soren-kragh-special"


@pytest.mark.django_db
def test_editor_types_a_taken_or_unreadable_slug_and_is_told(client, editor):
    """A slug another page has, or one of punctuation only, is a form error, not a 500."""
    make_section(name="Cycling", slug="cycling")
    url = reverse("admin:articles_section_add")
    data = {"name": "More cycling", "slug": "Cycling", "description": "", "position": 0}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors["slug"])
    response = client.post(url, {**data, "slug": "???"})
    assert response.status_code == 200
    assert "needs letters or digits" in str(response.context["adminform"].form.errors["slug"])
    assert Section.objects.count() == 1


@pytest.mark.django_db
def test_editor_adds_an_event_and_its_slug_names_the_competition(client, editor):
    """No prepopulated slug from the name alone: the server makes one with the competition."""
    games = make_competition(name="Milano Cortina 2026", slug="milano-cortina-2026")
    add_page = client.get(reverse("admin:articles_event_add")).content.decode()
    assert "prepopulated" not in add_page.split('name="slug"', 1)[0][-300:]
    response = client.post(
        reverse("admin:articles_event_add"),
        {
            "competition": games.pk,
            "sport": "Speed skating",
            "name": "Women's 3000 m",
            "slug": "",
            "starts_at_0": "10/02/2026",
            "starts_at_1": "16:00:00",
            "venue": "",
            "status": Event.Status.SCHEDULED,
            "record_label": "",
            "record_holder": "",
            "record_time_ms": "",
            "record_year": "",
            "results-TOTAL_FORMS": "0",
            "results-INITIAL_FORMS": "0",
            "results-MIN_NUM_FORMS": "0",
            "results-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(name="Women's 3000 m")
    assert event.slug == "milano-cortina-2026-speed-skating-womens-3000-m"
    assert client.get(event.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_competitions_and_athletes_added_in_the_admin_get_slugs(client, editor):
    """The same server-made slugs for competitions and athletes."""
    response = client.post(
        reverse("admin:articles_competition_add"),
        {
            "name": "Sapporo–Ōkurayama 2027",
            "slug": "",
            "place": "",
            "starts_on": "2027-01-01",
            "ends_on": "2027-01-02",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Competition.objects.get().slug == "sapporo-okurayama-2027"
    response = client.post(
        reverse("admin:articles_athlete_add"),
        {"name": "Søren Kragh Andersen", "slug": "", "nation": make_nation("DEN").pk},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Athlete.objects.get().slug == "soren-kragh-andersen"
