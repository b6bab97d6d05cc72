"""A reader searches for stories, athletes and events, typing whatever comes to mind."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings, strategies

from articles import search, search_views
from articles.models import Article

from .factories import (
    make_article,
    make_athlete,
    make_comment,
    make_competition,
    make_event,
    make_nation,
    make_section,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Save a story and commit it, so the search index hears about it as in production."""

    author = make_user()

    def publish(**fields):
        fields.setdefault("author", author)
        with django_capture_on_commit_callbacks(execute=True):
            return make_article(**fields)

    return publish


def found_titles(client, q, **params):
    response = client.get("/search/", {"q": q, **params})
    assert response.status_code == 200
    html = response.content.decode()
    titles = re.findall(r'<h3 class="card-title"><a href="[^"]+">(.*?)</a></h3>', html)
    return [re.sub(r"</?mark>", "", title) for title in titles]


def test_title_ranks_above_standfirst_above_body(client, publish):
    """A match in the title beats one in the standfirst, which beats one in the body."""
    publish(title="Ice report", standfirst="Calm day.", body="The zamboni was late again.")
    publish(title="Zamboni breaks down", standfirst="Calm day.", body="Nothing else.")
    publish(title="Rink news", standfirst="A zamboni story.", body="Nothing else.")
    publish(title="Unrelated", standfirst="Calm day.", body="Nothing at all.")
    assert found_titles(client, "zamboni") == ["Zamboni breaks down", "Rink news", "Ice report"]


def test_a_surname_is_found_as_you_type_it(client, publish):
    """Prefixes match whole words: "Leer" finds Leerdam, "Olympi" finds Olympic."""
    publish(title="Jutta Leerdam wins Olympic gold")
    publish(title="Femke Kok takes silver")
    assert found_titles(client, "Leer") == ["Jutta Leerdam wins Olympic gold"]
    assert found_titles(client, "leerd") == ["Jutta Leerdam wins Olympic gold"]
    assert found_titles(client, "Olympi") == ["Jutta Leerdam wins Olympic gold"]
    assert found_titles(client, "JUTTA") == ["Jutta Leerdam wins Olympic gold"]


def test_every_word_must_match(client, publish):
    """Two words find only stories with both."""
    publish(title="Leerdam and Kok on the podium")
    publish(title="Leerdam alone")
    publish(title="Kok alone")
    assert found_titles(client, "kok leerdam") == ["Leerdam and Kok on the podium"]


def test_drafts_and_scheduled_stories_are_never_found(client, publish):
    """Only published stories are found, a scheduled one as soon as its time has come."""
    now = timezone.now()
    publish(title="Curling draft", status=Article.Status.DRAFT, published_at=None)
    publish(
        title="Curling tomorrow",
        status=Article.Status.SCHEDULED,
        published_at=now + timedelta(days=1),
    )
    publish(
        title="Curling scheduled earlier",
        status=Article.Status.SCHEDULED,
        published_at=now - timedelta(minutes=1),
    )
    publish(title="Curling live", published_at=now - timedelta(hours=1))
    assert sorted(found_titles(client, "curling")) == ["Curling live", "Curling scheduled earlier"]


def test_edited_and_deleted_stories_leave_the_index(
    client, publish, django_capture_on_commit_callbacks
):
    """An edit replaces the old words once committed; a deleted story is no longer found."""
    article = publish(title="Biathlon preview")
    assert found_titles(client, "biathlon") == ["Biathlon preview"]
    with django_capture_on_commit_callbacks(execute=True):
        article.title = "Bobsleigh preview"
        article.save()
    assert found_titles(client, "biathlon") == []
    assert found_titles(client, "bobsleigh") == ["Bobsleigh preview"]
    with django_capture_on_commit_callbacks(execute=True):
        article.delete()
    assert found_titles(client, "bobsleigh") == []


def test_index_is_rebuilt_for_stories_saved_without_signals(client):
    """Bulk-loaded stories are found after `rebuild_search_index`."""
    from django.core.management import call_command

    article = make_article(title="Skeleton season opens")
    Article.objects.filter(pk=article.pk).update(title="Luge season opens")
    call_command("rebuild_search_index", verbosity=0)
    assert found_titles(client, "luge") == ["Luge season opens"]


def test_matches_are_highlighted_and_snippets_are_escaped(client, publish):
    """Matched words are marked; HTML and Markdown typed into a story never reach the page raw."""
    publish(
        title="Sprint <em>recap</em>",
        standfirst="A fast standfirst.",
        body="Intro.\n\n**Speedy** skaters & <script>alert('x')</script> [a link](https://example.com/speedy).",
    )
    html = client.get("/search/", {"q": "speedy"}).content.decode()
    assert "<mark>Speedy</mark>" in html
    assert "<script>alert" not in html
    assert "**" not in html and "](https://" not in html
    assert "Sprint &lt;em&gt;recap&lt;/em&gt;" in html


BAD_QUERIES = [
    "",
    "   ",
    "a" * 2000,
    "leerdam " * 300,
    '"quoted phrase"',
    '"unbalanced',
    "leer* OR title:gold AND NOT -silver",
    "NEAR(gold silver, 3)",
    "'; DROP TABLE articles_article; --",
    "1' OR '1'='1",
    "()[]{}<>:*!&|^~\\",
    "\x00\x01 control",
    "gold:* & !silver | (bronze <-> medal)",
    "ünïcödé 中文 ß",
    "%_%",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_odd_queries_give_a_normal_page(client, publish, query):
    """Empty, huge, quoted, operator- or SQL-looking queries get a normal 200 page."""
    publish(title="Leerdam gold")
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Search</h1>" in html
    assert "<script>alert(1)" not in html


@pytest.fixture
def corpus(publish):
    return [publish(title="Leerdam gold", body="Olympic record in the 1000 m.")]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=strategies.text(max_size=300))
def test_any_text_at_all_gives_a_normal_page(client, corpus, query):
    """Whatever text is typed, the search page answers 200."""
    assert client.get("/search/", {"q": query}).status_code == 200


def test_query_parsing_keeps_only_words():
    """Operators, quotes and SQL are dropped; words are lowercased, deduplicated and capped."""
    query = search.Query.parse("  \"Leer*\" OR 'drop' ; Leer  -- x_y ")
    assert query.terms == ("leer", "or", "drop", "x", "y")
    assert len(search.Query.parse("w " * 1000).text) <= search.MAX_QUERY_LENGTH
    assert len(search.Query.parse(" ".join(f"w{i}" for i in range(50))).terms) == search.MAX_TERMS
    assert not search.Query.parse("!!! ''' ---")


def test_no_words_explains_what_to_type(client):
    """A query with nothing searchable says so instead of listing everything."""
    make_article(title="Leerdam gold")
    html = client.get("/search/", {"q": "!!! ---"}).content.decode()
    assert "has no words or names to search for" in html
    assert "Leerdam gold" not in html


def test_results_are_paginated_with_the_count(client, publish, settings):
    """The count covers every match; later pages keep the query in their links."""
    section = make_section()
    total = settings.ARTICLES_PER_PAGE + 3
    for i in range(total):
        publish(title=f"Halfpipe story {i}", section=section)
    html = client.get("/search/", {"q": "halfpipe"}).content.decode()
    assert f"{total} stories" in html
    assert html.count('class="search-hit"') == settings.ARTICLES_PER_PAGE
    assert 'href="?page=2&amp;q=halfpipe"' in html
    second = client.get("/search/", {"q": "halfpipe", "page": 2})
    assert second.content.decode().count('class="search-hit"') == 3
    assert client.get("/search/", {"q": "halfpipe", "page": 99}).status_code == 404


def test_a_word_in_nearly_every_story_is_counted_only_so_far(client, publish, monkeypatch):
    """Past MOST_COUNTED matches the page says "more than", pages only the best of them, and
    asks for another word, instead of reading every match to count it."""
    monkeypatch.setattr(search_views, "MOST_COUNTED", 3)
    section = make_section()
    for i in range(5):
        # No other number in the text: the factory's counter ("story 412") would match "4".
        publish(
            title=f"Biathlon story {i}",
            section=section,
            standfirst="Skiing and shooting.",
            body="A race on skis.",
        )
    html = client.get("/search/", {"q": "biathlon"}).content.decode()
    assert "More than 3 stories" in html and "add a word to narrow them down" in html
    assert html.count('class="search-hit"') == 3
    assert "More than" not in client.get("/search/", {"q": "biathlon 4"}).content.decode()


def test_a_very_common_word_ranks_the_newest_matches(client, publish, monkeypatch):
    """Past MOST_COUNTED matches, the newest ones are ranked: an old story, however good a
    match, makes way for recent news (and another word finds it)."""
    monkeypatch.setattr(search_views, "MOST_COUNTED", 3)
    now = timezone.now()
    publish(title="Curling curling curling final", published_at=now - timedelta(days=30))
    for i in range(4):
        publish(title=f"Curling round {i}", published_at=now - timedelta(hours=i + 1))
    assert found_titles(client, "curling") == [
        "Curling round 0",
        "Curling round 1",
        "Curling round 2",
    ]
    assert found_titles(client, "curling final") == ["Curling curling curling final"]


def test_results_are_kept_per_query_and_retired_by_a_new_story(
    client, publish, settings, django_assert_num_queries
):
    """A reader whose page is built for them gets the kept results of a query without a query
    to the database; a story published since is found at once."""
    settings.PAGE_CACHE_SECONDS = 600
    client.cookies["comment_author"] = "unreadable"  # personal: the page is built for it
    publish(title="Luge gold for Germany")
    assert found_titles(client, "luge") == ["Luge gold for Germany"]
    with django_assert_num_queries(0):
        assert found_titles(client, "luge") == ["Luge gold for Germany"]
    assert found_titles(client, "luge germany") == ["Luge gold for Germany"]
    publish(title="Luge silver for Austria")
    assert sorted(found_titles(client, "luge")) == [
        "Luge gold for Germany",
        "Luge silver for Austria",
    ]


def test_athletes_and_events_are_found(client):
    """Athletes by name or nation, events by discipline, sport or competition."""
    leerdam = make_athlete(name="Jutta Leerdam", slug="jutta-leerdam", nation=make_nation("NED"))
    make_athlete(name="Miho Takagi", slug="miho-takagi", nation=make_nation("JPN"))
    games = make_competition(name="Milano Cortina 2026")
    event = make_event(name="Women's 1000 m", competition=games, sport="Speed skating")
    make_event(name="Men's 500 m", competition=make_competition(name="World Cup Heerenveen"))
    html = client.get("/search/", {"q": "leerd"}).content.decode()
    assert leerdam.get_absolute_url() in html and "Miho Takagi" not in html
    assert "1 athlete" in html
    html = client.get("/search/", {"q": "cortina 1000"}).content.decode()
    assert event.get_absolute_url() in html and "Heerenveen" not in html
    assert "1 event" in html


def test_header_has_a_search_box_that_works_without_javascript(client):
    """Every page has a labelled GET form to /search/ with a `q` field and a submit button."""
    html = client.get("/").content.decode()
    form = re.search(r'<form class="search-form header-search"[^>]*>.*?</form>', html, re.S)
    assert form, "no search form in the header"
    form = form.group(0)
    assert 'action="/search/"' in form and 'method="get"' in form and 'role="search"' in form
    assert 'name="q"' in form and 'type="submit"' in form
    field_id = re.search(r'<input id="([^"]+)"', form).group(1)
    assert f'<label for="{field_id}"' in form


def test_query_count_does_not_grow_with_results(client, publish):
    """Ten hits cost as many queries as two."""
    section = make_section()
    for i in range(2):
        publish(title=f"Moguls {i}", section=section)
    client.get("/search/", {"q": "moguls"})  # warm the section navigation cache
    with CaptureQueriesContext(connection) as few:
        client.get("/search/", {"q": "moguls"})
    for i in range(8):
        publish(title=f"Moguls more {i}", section=make_section())
    with CaptureQueriesContext(connection) as many:
        client.get("/search/", {"q": "moguls"})
    assert len(many) == len(few)


def test_comments_and_commenter_emails_are_not_searched(client, publish):
    """Comment text is not indexed and no commenter email appears on the results page."""
    article = publish(title="Freestyle final")
    make_comment(article=article, email="fan.private@example.org", body="Quokka freestyle")
    assert found_titles(client, "quokka") == []
    assert found_titles(client, "freestyle") == ["Freestyle final"]
    html = client.get("/search/", {"q": "freestyle"}).content.decode()
    assert "fan.private@example.org" not in html and "fan.private" not in html


def test_the_index_lives_in_the_database(client):
    """PostgreSQL has the GIN-indexed vector column and accent-free configurations; SQLite has
    the FTS5 tables of words and of Porter stems."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'article_search_idx'")
            assert "gin (search_vector)" in cursor.fetchone()[0]
            cursor.execute("SELECT to_tsvector('newsroom_english', 'Élodie Olympics')::text")
            assert cursor.fetchone()[0] == "'elodi':1 'olymp':2"
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_article_fts'")
            assert "fts5" in cursor.fetchone()[0]
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'articles_article_fts_stems'"
            )
            assert "porter unicode61 remove_diacritics 2" in cursor.fetchone()[0]


# The same cases on SQLite and PostgreSQL: run this file with and without DATABASE_URL.
LANGUAGE_STORIES = [
    "Olympic record for Leerdam",
    "Records tumble at the Olympics",
    "Kok wins the 1000 m",
    "Takagi fastest over 500m",
    "Élodie Müller leads the sprint",
    "Curling semi-final in Cortina 2026",
]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # Stems, both ways, and prefixes of the words as written.
        ("olympic", ["Olympic record for Leerdam", "Records tumble at the Olympics"]),
        ("olympics", ["Olympic record for Leerdam", "Records tumble at the Olympics"]),
        ("record", ["Olympic record for Leerdam", "Records tumble at the Olympics"]),
        ("records", ["Olympic record for Leerdam", "Records tumble at the Olympics"]),
        ("Olympi", ["Olympic record for Leerdam", "Records tumble at the Olympics"]),
        ("olympics leerdam", ["Olympic record for Leerdam"]),
        # A number and its unit, glued or spaced, in the query or in the story.
        ("1000m", ["Kok wins the 1000 m"]),
        ("1000 m", ["Kok wins the 1000 m"]),
        ("1000M kok", ["Kok wins the 1000 m"]),
        ("500m", ["Takagi fastest over 500m"]),
        ("500 m", ["Takagi fastest over 500m"]),
        ("500", ["Takagi fastest over 500m"]),
        ("cortina 2026", ["Curling semi-final in Cortina 2026"]),
        # Unicode case and accents.
        ("élodie", ["Élodie Müller leads the sprint"]),
        ("ÉLODIE", ["Élodie Müller leads the sprint"]),
        ("elodie", ["Élodie Müller leads the sprint"]),
        ("muller", ["Élodie Müller leads the sprint"]),
        ("MÜLLER", ["Élodie Müller leads the sprint"]),
        ("Müll", ["Élodie Müller leads the sprint"]),
        # Still nothing for what is not there.
        ("1500m", []),
        ("olympiad", []),
    ],
)
def test_stems_units_case_and_accents(client, publish, q, expected):
    """Searching "olympics" finds "Olympic", "1000m" finds "1000 m" (and back), "elodie" finds
    "Élodie": alike on SQLite and PostgreSQL."""
    for title in LANGUAGE_STORIES:
        publish(title=title, standfirst="A story.", body="Nothing else.")
    assert sorted(found_titles(client, q)) == sorted(expected)


def test_stems_and_units_are_found_in_the_body_too(client, publish):
    """What holds for titles holds for every indexed field."""
    publish(title="Day report", standfirst="Calm day.", body="Two new records in the 1000m.")
    assert found_titles(client, "record 1000 m") == ["Day report"]


def test_a_unit_joins_only_its_number():
    """A unit joins the number before it ("1000 m" is one term); "2026 olympics" stays two."""
    query = search.Query.parse("Milano 2026 olympics 1000 m 500M 10 km 5 1000m")
    assert query.terms == ("milano", "2026", "olympics", "1000m", "500m", "10km", "5")


def test_athletes_and_events_ignore_case_accents_and_unit_spacing(client):
    """Names match "élodie", "ELODIE" and "muller" alike; "1000m" finds "Women's 1000 m"."""
    elodie = make_athlete(name="Élodie Müller", slug="elodie-muller", nation=make_nation("FRA"))
    make_athlete(name="Miho Takagi", slug="miho-takagi", nation=make_nation("JPN"))
    for q in ("élodie", "ÉLODIE", "elodie", "muller", "Müller", "MÜLL"):
        html = client.get("/search/", {"q": q}).content.decode()
        assert elodie.get_absolute_url() in html and "Miho Takagi" not in html, q
    games = make_competition(name="Milano Cortina 2026")
    thousand = make_event(name="Women's 1000 m", competition=games, sport="Speed skating")
    five_hundred = make_event(name="Men's 500m", competition=games, sport="Speed skating")
    for q, event, other in (
        ("1000m", thousand, five_hundred),
        ("1000 m", thousand, five_hundred),
        ("500 m", five_hundred, thousand),
        ("500m", five_hundred, thousand),
    ):
        html = client.get("/search/", {"q": q}).content.decode()
        assert event.get_absolute_url() in html and other.get_absolute_url() not in html, q


def no_stories_hint(client, q):
    html = client.get("/search/", {"q": q}).content.decode()
    return re.search(r'<p class="search-hint">(.*?)</p>', html, re.S).group(1)


def test_the_no_results_hint_fits_what_was_searched(client, publish):
    """One unknown word: try its start; several words: try each alone; never a fixed example."""
    publish(title="Leerdam gold")
    publish(title="Curling final")
    hint = no_stories_hint(client, "olympiks")
    assert "“olympiks”" in hint and 'href="/search/?q=olym"' in hint
    assert "Leerdam" not in hint and "fewer" not in hint
    hint = no_stories_hint(client, "leerdam curling")
    assert "all of “leerdam” and “curling”" in hint and "fewer words" in hint
    assert 'href="/search/?q=leerdam"' in hint and 'href="/search/?q=curling"' in hint
    hint = no_stories_hint(client, "1500 m")
    assert "“1500m”" in hint and 'href="/search/?q=1500"' in hint
    hint = no_stories_hint(client, "zq")
    assert "“zq”" in hint and "try another word" in hint and "href" not in hint
    html = client.get("/search/", {"q": "leerdam"}).content.decode()
    assert "search-hint" not in html
