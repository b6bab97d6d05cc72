"""Feed readers and search engines read every XML output, whatever an editor once typed; editors
are told at once when they paste a character that XML cannot carry."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from articles.sitemaps import SITEMAPS
from newsroom.xmltext import validate_xml_text, xml_safe

from .factories import (
    make_article,
    make_athlete,
    make_competition,
    make_event,
    make_result,
    make_section,
    make_tag,
    make_user,
)

# Characters XML 1.0 forbids that a database stores happily (old rows, imports, the shell).
BAD = "\x08\x0b\x1f\ufffe\uffff"


def bad(text):
    """`text` with the forbidden characters after each word."""
    return " ".join(word + BAD for word in text.split())


@pytest.fixture
def old_rows(db):
    """Rows stored before the admin refused such characters, every text field a feed or sitemap
    shows spoilt."""
    section = make_section(name=bad("Speed skating"), slug="speed", description=bad("All of it"))
    tag = make_tag(name=bad("Milano Cortina"), slug="milano")
    author = make_user(first_name=bad("Ada"), last_name=bad("Writer"))
    event = make_event(
        name=bad("Women's 1000 m"),
        competition=make_competition(name=bad("Milano Cortina 2026")),
    )
    make_result(event=event, athlete=make_athlete(name=bad("Jutta Leerdam")), rank=1, time_ms=1)
    return make_article(
        title=bad("Gold for Leerdam"),
        standfirst=bad("She won it."),
        body=bad("A **bold** race.") + "\n\n4. fourth\n5. fifth",
        section=section,
        author=author,
        tags=[tag],
        events=[event],
        # In the news sitemap's two days whatever the factory's counter (its default goes back
        # up to 50 hours).
        published_at=timezone.now() - timedelta(hours=1),
    )


def xml_urls():
    """Every XML output: the feeds of the site, a section and a tag, and every sitemap."""
    feeds = ["/feed/", "/feed/atom/"]
    for kind in ("section", "tag"):
        slug = "speed" if kind == "section" else "milano"
        feeds += [
            reverse(f"articles:{kind}-feed", args=[slug]),
            reverse(f"articles:{kind}-feed-atom", args=[slug]),
        ]
    sitemaps = ["/sitemap.xml", "/sitemap-news.xml"] + [
        reverse("sitemap-section", kwargs={"section": name}) for name in SITEMAPS
    ]
    return feeds, sitemaps


def test_every_xml_output_is_well_formed_whatever_was_stored(client, old_rows):
    """A strict XML parser and a feed reader read every feed and sitemap; the text is there with
    only the forbidden characters gone."""
    feeds, sitemaps = xml_urls()
    for url in feeds + sitemaps:
        response = client.get(url)
        assert response.status_code == 200, url
        ET.fromstring(response.content)  # noqa: S314 (our own output) raises if not well-formed
        assert not any(char.encode() in response.content for char in BAD), url
    for url in feeds:
        feed = feedparser.parse(client.get(url).content)
        assert feed.bozo == 0, (url, feed.get("bozo_exception"))
        assert feed.entries[0].title == "Gold for Leerdam"
        assert feed.entries[0].author == "Ada Writer"
    news = client.get("/sitemap-news.xml").content.decode()
    assert "<news:title>Gold for Leerdam</news:title>" in news


def test_a_character_no_database_can_hold_is_removed_too(client, old_rows, monkeypatch):
    """A lone surrogate can only come from code, never from the database; it is removed too."""
    monkeypatch.setattr("articles.feeds.author_name", lambda article: "Ada\ud800 Writer")
    for url in ("/feed/", "/feed/atom/"):
        response = client.get(url)
        assert response.status_code == 200
        assert feedparser.parse(response.content).entries[0].author == "Ada Writer"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Tab\tnew line\ncarriage\rreturn", "Tab\tnew line\ncarriage\rreturn"),
        ("Back\x08space\x00nul", "Backspacenul"),
        ("non\ufffechar\uffffs", "nonchars"),
        ("lone\ud800 \udfffsurrogates", "lone surrogates"),
        ("Émoji 🏅, CJK 高木, C1\x85, \u2028 stay", "Émoji 🏅, CJK 高木, C1\x85, \u2028 stay"),
    ],
)
def test_xml_safe_keeps_everything_xml_allows(text, kept):
    """Only what XML 1.0 forbids goes: tabs, new lines, emoji, any script stay."""
    assert xml_safe(text) == kept
    ET.fromstring(f"<t>{xml_safe(text)}</t>".encode(errors="strict"))  # noqa: S314


@pytest.mark.parametrize("char", ["\x00", "\x08", "\x0b", "\x1f", "\ufffe", "\uffff", "\ud800"])
def test_the_validator_names_the_character(char):
    """The editor is told which invisible character to delete."""
    with pytest.raises(ValidationError) as error:
        validate_xml_text(f"Gold{char}")
    assert f"U+{ord(char):04X}" in error.value.messages[0]
    validate_xml_text("Gold\tfor Leerdam\n— 高木 🏅")


# --- Editors in the admin ---------------------------------------------------------------------


@pytest.fixture
def editor(client):
    user = make_user(groups=["Editors"])
    client.force_login(user)
    return user


def story_form(editor, **overrides):
    return {
        "title": "Fresh from the admin",
        "slug": "",
        "standfirst": "Written by an editor.",
        "body": "Some **news**.",
        "status": "draft",
        "published_at_0": "",
        "published_at_1": "",
        "section": make_section().pk,
        "author": editor.pk,
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
        **overrides,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["title", "standfirst", "body", "hero_caption"])
def test_editor_pasting_a_control_character_into_a_story_is_told(client, editor, field):
    """Titles, standfirst, body and captions refuse U+0008 with a clear error; nothing is saved."""
    data = story_form(editor, **{field: "Gold\x08 for Leerdam"})
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "U+0008" in str(errors[field])
    assert not response.context["adminform"].form.instance.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("admin:articles_tag_add", {"name": "Milano\ufffe", "slug": ""}),
        (
            "admin:articles_section_add",
            {"name": "Skating", "slug": "", "description": "All\x0bof it", "position": 0},
        ),
        (
            "admin:articles_competition_add",
            {
                "name": "Games\x1f2026",
                "slug": "",
                "place": "",
                "starts_on": "2026-02-06",
                "ends_on": "2026-02-22",
            },
        ),
    ],
)
def test_names_of_tags_sections_and_competitions_refuse_them_too(client, editor, url_name, data):
    """The same validator guards every text field editors type into."""
    response = client.post(reverse(url_name), data)
    assert response.status_code == 200
    assert "control character" in str(response.context["adminform"].form.errors)


@pytest.mark.django_db
def test_athlete_names_and_result_notes_refuse_them(client, editor):
    """In the results admin, an athlete's name and a result's notes are checked as well."""
    from articles.models import Nation

    nation = Nation.objects.get(code="NED")
    response = client.post(
        reverse("admin:articles_athlete_add"),
        {"name": "Jutta\x08 Leerdam", "slug": "", "nation": nation.pk},
    )
    assert response.status_code == 200
    assert "U+0008" in str(response.context["adminform"].form.errors["name"])
    event = make_event()
    athlete = make_athlete()
    data = {
        "competition": event.competition.pk,
        "sport": event.sport,
        "name": event.name,
        "slug": event.slug,
        "starts_at_0": "10/02/2026",
        "starts_at_1": "16:00:00",
        "venue": "",
        "status": event.status,
        "record_label": "",
        "record_holder": "",
        "record_time_ms": "",
        "record_year": "",
        "results-TOTAL_FORMS": "1",
        "results-INITIAL_FORMS": "0",
        "results-MIN_NUM_FORMS": "0",
        "results-MAX_NUM_FORMS": "1000",
        "results-0-rank": "1",
        "results-0-athlete": athlete.pk,
        "results-0-time_ms": "1:12.31",
        "results-0-status": "finished",
        "results-0-notes": "OR\x08",
        "results-0-event": event.pk,
    }
    response = client.post(reverse("admin:articles_event_change", args=[event.pk]), data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "U+0008" in str(formset.forms[0].errors["notes"])
    assert not event.results.exists()
