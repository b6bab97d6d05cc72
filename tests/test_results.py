"""Readers browse results, medal tables and athletes; editors enter results in the admin."""

import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from articles.models import Article, Competition, Event, Result

from .factories import (
    make_article,
    make_athlete,
    make_competition,
    make_event,
    make_nation,
    make_result,
    make_user,
)

pytestmark = pytest.mark.django_db

LEERDAM_STORY = "leerdam-wins-olympic-1000m-gold"
WOMEN_1000M = "milano-cortina-2026-speed-skating-women-1000m"


def table_rows(html, caption):
    """The cell texts of each body row of the table with this caption."""
    table = html.split(f">{caption}</caption>", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    cells = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
    return [
        [" ".join(strip_tags(cell).split()) for cell in cells.findall(row)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def add_results(event, count, *, start=1):
    """`count` finishers for the event, one second apart."""
    for place in range(start, start + count):
        make_result(event=event, rank=place, time_ms=70_000 + place * 1000)


@pytest.fixture
def demo():
    call_command("seed_demo", verbosity=0)


# --- The demo content -------------------------------------------------------------------------


def test_demo_event_page_shows_leerdam_first_in_an_olympic_record(client, demo):
    """Leerdam is first in 1:12.31 OR, Kok +0.28 also OR, Takagi +1.64; the old record is named."""
    html = page(client, Event.objects.get(slug=WOMEN_1000M).get_absolute_url())
    rows = table_rows(html, "Full results")
    assert rows == [
        ["1 (gold medal)", "Jutta Leerdam", "1:12.31", "", "NED", "OR"],
        ["2 (silver medal)", "Femke Kok", "1:12.59", "+0.28", "NED", "OR"],
        ["3 (bronze medal)", "Miho Takagi", "1:13.95", "+1.64", "JPN", ""],
        ["14", "Nadezhda Morozova", "–", "", "KAZ", ""],
    ]
    assert "Olympic record before this event: Miho Takagi, 1:13.19 (2022)." in html
    assert '<abbr title="Olympic record">OR</abbr>' in html
    assert "Official results" in html and "provisional" not in html
    assert '<a href="/athletes/jutta-leerdam/">Jutta Leerdam</a>' in html


def test_demo_event_page_links_back_to_the_stories_that_cover_it(client, demo):
    """The 1000 m page links to the Leerdam story and the analysis that covers both races."""
    html = page(client, Event.objects.get(slug=WOMEN_1000M).get_absolute_url())
    assert Article.objects.get(slug=LEERDAM_STORY).get_absolute_url() in html
    assert Article.objects.get(slug="what-the-dutch-double-means").get_absolute_url() in html
    assert Article.objects.get(slug="kok-wins-olympic-500m-gold").get_absolute_url() not in html


def test_demo_medal_tables(client, demo):
    """Olympics: Netherlands 2-2-0 (4), Japan 0-0-2 (2); the invitational's tie: two silvers."""
    olympics = Competition.objects.get(slug="milano-cortina-2026")
    rows = table_rows(page(client, olympics.get_absolute_url()), f"Medal table: {olympics.name}")
    assert rows == [
        ["1", "Netherlands NED", "2", "2", "0", "4"],
        ["2", "Japan JPN", "0", "0", "2", "2"],
    ]
    invitational = Competition.objects.get(slug="demo-winter-invitational-2026")
    rows = table_rows(
        page(client, invitational.get_absolute_url()), f"Medal table: {invitational.name}"
    )
    assert rows == [
        ["1", "Norway NOR", "1", "0", "0", "1"],
        ["2", "Canada CAN", "0", "1", "0", "1"],
        ["2", "Netherlands NED", "0", "1", "0", "1"],
    ]


def test_demo_article_shows_the_podium_and_links_to_the_full_table(client, demo):
    """The Leerdam story carries the 1000 m podium and a link to the full results."""
    html = page(client, Article.objects.get(slug=LEERDAM_STORY).get_absolute_url())
    rows = table_rows(html, "Podium and top places: Women&#x27;s 1000 m")
    assert rows[0] == ["1 (gold medal)", "Jutta Leerdam", "1:12.31", "", "NED", "OR"]
    assert rows[1][2:4] == ["1:12.59", "+0.28"]
    assert len(rows) == 3  # Morozova was 14th: not a top place
    assert f'href="{reverse("articles:event", kwargs={"slug": WOMEN_1000M})}"' in html
    analysis = Article.objects.get(slug="what-the-dutch-double-means")
    analysis = page(client, analysis.get_absolute_url())
    assert ">Podium and top places: Women&#x27;s 500 m</caption>" in analysis
    assert ">Podium and top places: Women&#x27;s 1000 m</caption>" in analysis


# --- Reader pages -----------------------------------------------------------------------------


def test_results_index_lists_competitions_and_events_newest_first(client):
    """/results/ shows every competition, newest first, each with its events."""
    old = make_competition(name="Old Games", starts_on=date(2022, 2, 4), ends_on=date(2022, 2, 20))
    new = make_competition(name="New Games", starts_on=date(2026, 2, 6), ends_on=date(2026, 2, 22))
    make_event(competition=old, name="Men's 500 m")
    make_event(competition=new, name="Women's 1000 m")
    html = page(client, "/results/")
    assert html.index("New Games") < html.index("Women&#x27;s 1000 m") < html.index("Old Games")
    assert html.index("Old Games") < html.index("Men&#x27;s 500 m")
    assert new.get_absolute_url() in html


def test_results_index_without_competitions_says_so(client):
    """An empty results index is a friendly page, not an error."""
    assert "No results yet." in page(client, "/results/")


def test_medal_table_sorts_by_gold_then_silver_then_bronze_and_shares_places(client):
    """One gold beats any number of silvers; nations level on all three share a place."""
    games = make_competition()
    medals = {"AAA": [2, 2, 2, 3], "BBB": [1], "CCC": [2, 3], "DDD": [2, 3], "EEE": [3], "FFF": [4]}
    for code, ranks in medals.items():
        nation = make_nation(code)
        for rank in ranks:
            make_result(
                event=make_event(competition=games),
                athlete=make_athlete(nation=nation),
                rank=rank,
                time_ms=60_000 + rank,
            )
    make_result(event=make_event(competition=games), rank=None, status=Result.Status.DNF)
    rows = [
        (r["place"], r["code"], r["gold"], r["silver"], r["bronze"], r["total"])
        for r in games.medal_table()
    ]
    assert rows == [
        (1, "BBB", 1, 0, 0, 1),
        (2, "AAA", 0, 3, 1, 4),
        (3, "CCC", 0, 1, 1, 2),
        (3, "DDD", 0, 1, 1, 2),
        (5, "EEE", 0, 0, 1, 1),
    ]
    html = page(client, games.get_absolute_url())
    assert "FFF" not in html


def test_medal_table_counts_only_this_competition_in_one_query(django_assert_num_queries):
    """The table is aggregated by the database, not in Python, and ignores other competitions."""
    games, other = make_competition(), make_competition()
    nation = make_nation("NED")
    for competition in (games, other):
        for rank in (1, 2, 3):
            make_result(
                event=make_event(competition=competition),
                athlete=make_athlete(nation=nation),
                rank=rank,
                time_ms=60_000,
            )
    with django_assert_num_queries(1):
        rows = list(games.medal_table())
    assert [(r["gold"], r["silver"], r["bronze"], r["total"]) for r in rows] == [(1, 1, 1, 3)]


def test_a_tie_gives_two_golds_and_no_silver(client):
    """Two winners in the same time both get gold; the next skater is third and takes bronze."""
    event, nation = make_event(), make_nation("NED")
    for rank, ms in [(1, 72_310), (1, 72_310), (3, 72_590)]:
        make_result(event=event, athlete=make_athlete(nation=nation), rank=rank, time_ms=ms)
    rows = table_rows(page(client, event.get_absolute_url()), "Full results")
    assert [row[0] for row in rows] == ["1 (gold medal)", "1 (gold medal)", "3 (bronze medal)"]
    assert rows[2][3] == "+0.28"
    medals = event.competition.medal_table().get()
    assert (medals["gold"], medals["silver"], medals["bronze"]) == (2, 0, 1)


def test_dnf_dns_and_dsq_come_after_finishers_without_time(client):
    """Non-finishers are listed last, with their status instead of a time and no gap."""
    event = make_event()
    make_result(event=event, rank=None, status=Result.Status.DSQ)
    make_result(event=event, rank=None, status=Result.Status.DNF)
    make_result(event=event, rank=2, time_ms=73_000)
    make_result(event=event, rank=1, time_ms=72_000)
    rows = table_rows(page(client, event.get_absolute_url()), "Full results")
    assert [(row[0], row[2], row[3]) for row in rows] == [
        ("1 (gold medal)", "1:12.00", ""),
        ("2 (silver medal)", "1:13.00", "+1.00"),
        ("", "DNF", ""),
        ("", "DSQ", ""),
    ]


def test_provisional_results_are_marked_as_such(client):
    """Until an editor marks them official, results carry a provisional notice."""
    event = make_event(results_official=False)
    add_results(event, 3)
    html = page(client, event.get_absolute_url())
    assert "Provisional results" in html and "These results are provisional" in html
    event.results_official = True
    event.save()
    html = page(client, event.get_absolute_url())
    assert "Official results" in html and "provisional" not in html


def test_event_page_lists_only_published_covering_stories(client):
    """Drafts that cover an event stay hidden from its page."""
    event = make_event()
    add_results(event, 3)
    live = make_article(title="Live story", events=[event])
    make_article(
        title="Draft story",
        events=[event],
        status=Article.Status.DRAFT,
        published_at=timezone.now() + timedelta(days=1),
    )
    html = page(client, event.get_absolute_url())
    assert live.get_absolute_url() in html
    assert "Draft story" not in html


def test_scheduled_event_without_results_says_so(client):
    """An event with no results yet shows its state, not an empty table."""
    event = make_event(status=Event.Status.SCHEDULED)
    html = page(client, event.get_absolute_url())
    assert "No results yet." in html and "Scheduled" in html and "<table" not in html


def test_athlete_page_shows_results_history_and_covering_stories(client):
    """An athlete's page lists their results, newest first, and the published stories on them."""
    athlete = make_athlete(name="Femke Kok")
    older = make_event(name="Old race", starts_at=timezone.now() - timedelta(days=400))
    newer = make_event(name="New race", starts_at=timezone.now() - timedelta(days=1))
    make_result(event=older, rank=1, time_ms=36_000)
    make_result(event=older, athlete=athlete, rank=2, time_ms=36_490)
    make_result(event=newer, athlete=athlete, rank=1, time_ms=36_490)
    story = make_article(title="Kok wins", events=[newer])
    make_article(
        title="Unpublished Kok story",
        events=[older],
        status=Article.Status.DRAFT,
        published_at=timezone.now() + timedelta(days=1),
    )
    make_article(title="Unrelated story", events=[make_event()])
    html = page(client, athlete.get_absolute_url())
    rows = table_rows(html, "Results of Femke Kok, newest first")
    assert [row[0].split(" ")[:2] for row in rows] == [["New", "race"], ["Old", "race"]]
    assert rows[1][1:4] == ["2 (silver medal)", "36.49", "+0.49"]
    assert story.get_absolute_url() in html
    assert "Unpublished Kok story" not in html and "Unrelated story" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/results/no-such-games/",
        "/results/events/no-such-event/",
        "/results/events/no-such-event.csv",
        "/athletes/no-such-athlete/",
        "/results/?page=99",
        "/results/?page=abc",
    ],
)
def test_unknown_results_pages_are_404(client, url):
    """Unknown slugs and bad page numbers are a clean 404, never a 500."""
    assert client.get(url).status_code == 404


def test_article_shows_top_places_only_and_links_to_the_full_table(client):
    """A story shows the first five places of a long table, then links to all of it."""
    event = make_event(name="Women's 3000 m")
    add_results(event, 12)
    story = make_article(events=[event])
    html = page(client, story.get_absolute_url())
    assert len(table_rows(html, "Podium and top places: Women&#x27;s 3000 m")) == 5
    assert f'<a href="{event.get_absolute_url()}">Full results' in html


def test_csv_download_of_an_events_results(client):
    """Anyone can download an event's results as a CSV file in the import format."""
    event = make_event(slug="women-1000m")
    make_result(event=event, athlete=make_athlete(name="Jutta Leerdam"), rank=1, time_ms=72_310)
    response = client.get(reverse("articles:event-csv", kwargs={"slug": event.slug}))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="women-1000m.csv"'
    lines = response.content.decode().splitlines()
    assert lines[0] == "rank,athlete,nation,time,status,notes"
    assert lines[1].startswith("1,Jutta Leerdam,") and "1:12.31" in lines[1]


# --- Query counts -----------------------------------------------------------------------------


def count_queries(client, url):
    client.get(url)  # warm the navigation cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_counts_stay_flat_as_a_table_grows_from_3_to_30(client, django_assert_num_queries):
    """Event, article, competition, athlete and index pages cost the same for 3 or 30 results."""
    competition = make_competition()
    event = make_event(competition=competition)
    add_results(event, 3)
    athlete = event.results.first().athlete
    for _ in range(3):
        make_result(event=make_event(competition=competition), athlete=athlete, rank=1, time_ms=1)
    story = make_article(events=[event, make_event(competition=competition)])
    urls = [
        event.get_absolute_url(),
        story.get_absolute_url(),
        competition.get_absolute_url(),
        athlete.get_absolute_url(),
        reverse("articles:results"),
        reverse("articles:event-csv", kwargs={"slug": event.slug}),
    ]
    baseline = {url: count_queries(client, url) for url in urls}

    add_results(event, 27, start=4)
    for _ in range(27):
        make_result(event=make_event(competition=competition), athlete=athlete, rank=2, time_ms=2)
    assert event.results.count() == 30

    for url in urls:
        with django_assert_num_queries(baseline[url]):
            assert client.get(url).status_code == 200


# --- Editors in the admin ---------------------------------------------------------------------


@pytest.fixture
def editor(client):
    client.force_login(make_user(groups=["Editors"]))


def event_form(event, results=(), **overrides):
    """POST data for the event change form with its results inline."""
    local = timezone.localtime(event.starts_at)
    data = {
        "competition": event.competition.pk,
        "sport": event.sport,
        "name": event.name,
        "slug": event.slug,
        "starts_at_0": local.strftime("%d/%m/%Y"),
        "starts_at_1": local.strftime("%H:%M:%S"),
        "venue": event.venue,
        "status": event.status,
        "results_official": "on" if event.results_official else "",
        "record_label": "",
        "record_holder": "",
        "record_time_ms": "",
        "record_year": "",
        "results-TOTAL_FORMS": str(len(results)),
        "results-INITIAL_FORMS": str(sum(1 for row in results if row.get("id"))),
        "results-MIN_NUM_FORMS": "0",
        "results-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(results):
        for field in ["id", "rank", "athlete", "time_ms", "status", "notes"]:
            data[f"results-{index}-{field}"] = row.get(field, "")
        data[f"results-{index}-event"] = event.pk
        data[f"results-{index}-status"] = row.get("status", "finished")
    data.update(overrides)
    return data


def change_url(event):
    return reverse("admin:articles_event_change", args=[event.pk])


def test_editor_sees_results_inline_in_rank_order_with_typed_times(client, editor):
    """The event page in the admin lists results by rank, times shown as 1:12.31."""
    event = make_event()
    make_result(event=event, rank=None, status=Result.Status.DNF)
    make_result(event=event, rank=2, time_ms=72_590)
    make_result(event=event, rank=1, time_ms=72_310)
    response = client.get(change_url(event))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index('value="1:12.31"') < html.index('value="1:12.59"')
    assert reverse("admin:articles_event_import", args=[event.pk]) in html
    assert reverse("articles:event-csv", kwargs={"slug": event.slug}) in html


def test_editor_enters_results_and_covering_stories_read_updated(client, editor):
    """Times typed as text are stored exactly; the covering story is stamped "Updated"."""
    event = make_event()
    story = make_article(events=[event])
    leerdam, kok = make_athlete(), make_athlete()
    response = client.post(
        change_url(event),
        event_form(
            event,
            [
                {"rank": "1", "athlete": leerdam.pk, "time_ms": "1:12,31", "notes": "OR"},
                {"rank": "2", "athlete": kok.pk, "time_ms": "72.59", "notes": "OR"},
            ],
        ),
    )
    assert response.status_code == 302, response.context["errors"]
    assert list(event.results.values_list("rank", "time_ms")) == [(1, 72_310), (2, 72_590)]
    story.refresh_from_db()
    assert story.results_updated_at is not None
    assert "<strong>Updated</strong>" in page(client, story.get_absolute_url())


def test_saving_an_event_without_result_changes_does_not_stamp_stories(client, editor):
    """Editing the venue alone is not a results change."""
    event = make_event()
    result = make_result(event=event, rank=1, time_ms=72_310)
    story = make_article(events=[event])
    row = {"id": result.pk, "rank": "1", "athlete": result.athlete.pk, "time_ms": "1:12.31"}
    response = client.post(change_url(event), event_form(event, [row], venue="New oval"))
    assert response.status_code == 302, response.context["errors"]
    story.refresh_from_db()
    assert story.results_updated_at is None


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"rank": "1", "time_ms": "1:72.00"}, "time_ms", "seconds must be below 60"),
        ({"rank": "1", "time_ms": "soon"}, "time_ms", "is not a time"),
        ({"rank": "", "time_ms": "1:12.31"}, "rank", "A finisher needs a rank"),
        ({"rank": "3", "time_ms": "", "status": "DNF"}, "rank", "A DNF has no rank"),
        ({"rank": "", "time_ms": "1:12.31", "status": "DNS"}, "time_ms", "A DNS has no time"),
    ],
)
def test_bad_result_rows_get_errors_on_their_own_row(client, editor, row, field, message):
    """Each bad row says what is wrong next to the field; nothing is saved."""
    event = make_event()
    good = {"rank": "1", "athlete": make_athlete().pk, "time_ms": "1:10.00"}
    response = client.post(
        change_url(event), event_form(event, [good, {"athlete": make_athlete().pk, **row}])
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert not formset.forms[0].errors
    assert message in " ".join(formset.forms[1].errors[field])
    assert not event.results.exists()


def test_editor_types_ties_long_times_and_dq_as_results_sheets_write_them(client, editor):
    """=2 is a shared second place, 1:02:03.4 an hour-long time, DQ in the time or rank cell a
    disqualification; the inline shows them back in the site's own notation."""
    event = make_event()
    a, b, c, d, e = (make_athlete() for _ in range(5))
    rows = [
        {"rank": "1", "athlete": a.pk, "time_ms": "1:02:03.4"},
        {"rank": "=2", "athlete": b.pk, "time_ms": "1:02:05.10"},
        {"rank": "T2", "athlete": c.pk, "time_ms": "1:02:05.10"},
        {"rank": "", "athlete": d.pk, "time_ms": "DQ"},
        {"rank": "dnf", "athlete": e.pk, "time_ms": ""},
    ]
    response = client.post(change_url(event), event_form(event, rows))
    assert response.status_code == 302, response.context["errors"]
    assert list(event.results.in_table_order().values_list("rank", "time_ms", "status")) == [
        (1, 3_723_400, "finished"),
        (2, 3_725_100, "finished"),
        (2, 3_725_100, "finished"),
        (None, None, "DNF"),
        (None, None, "DSQ"),
    ]
    html = client.get(change_url(event)).content.decode()
    assert 'value="1:02:03.40"' in html
    assert "1:02:03.40" in page(client, event.get_absolute_url())


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"rank": "==1", "time_ms": "1:12.31"}, "rank", "is not a rank"),
        ({"rank": "", "time_ms": "DQ", "status": "DNS"}, "time_ms", "This row is a DNS"),
        ({"rank": "1", "time_ms": "1:60:00"}, "time_ms", "minutes must be below 60"),
    ],
)
def test_bad_notations_get_errors_on_their_row(client, editor, row, field, message):
    """A rank or status that cannot be read is a form error on its row, never a 500."""
    event = make_event()
    response = client.post(
        change_url(event), event_form(event, [{"athlete": make_athlete().pk, **row}])
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert message in " ".join(formset.forms[0].errors[field])
    assert not event.results.exists()


def test_rank_and_time_that_disagree_and_duplicate_athletes_are_refused(client, editor):
    """A faster time behind a slower one, or the same athlete twice, is flagged on the row."""
    event = make_event()
    a, b = make_athlete(), make_athlete()
    rows = [
        {"rank": "1", "athlete": a.pk, "time_ms": "1:13.00"},
        {"rank": "2", "athlete": b.pk, "time_ms": "1:12.00"},
    ]
    response = client.post(change_url(event), event_form(event, rows))
    formset = response.context["inline_admin_formsets"][0].formset
    assert "faster than rank 1" in " ".join(formset.forms[1].errors["rank"])
    rows[1]["athlete"] = a.pk
    rows[1]["time_ms"] = "1:14.00"
    response = client.post(change_url(event), event_form(event, rows))
    assert response.status_code == 200
    assert "duplicate" in str(response.context["errors"]).lower()
    assert not event.results.exists()


def test_editor_imports_a_csv_from_the_event_page(client, editor):
    """A good upload replaces the results and returns to the event with a summary."""
    make_nation("NED")
    event = make_event()
    story = make_article(events=[event])
    upload = SimpleUploadedFile(
        "results.csv", b"athlete,nation,time\nJutta Leerdam,NED,1:12.31\nFemke Kok,NED,1:12.59\n"
    )
    url = reverse("admin:articles_event_import", args=[event.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"file": upload}, follow=True)
    assert response.redirect_chain[-1][0] == change_url(event)
    assert "2 added, 0 updated, 0 removed, 0 unchanged" in response.content.decode()
    assert list(event.results.values_list("rank", flat=True)) == [1, 2]
    story.refresh_from_db()
    assert story.results_updated_at is not None


def test_bad_csv_upload_lists_every_bad_line_and_stores_nothing(client, editor):
    """A bad upload is a 400 page naming each bad line; the event keeps its results."""
    make_nation("NED")
    event = make_event()
    make_result(event=event, rank=1, time_ms=72_310)
    upload = SimpleUploadedFile(
        "results.csv", b"athlete,nation,time\nA,XYZ,1:12.31\nB,NED,1:12.31\nB,NED,1:13.00\n"
    )
    response = client.post(
        reverse("admin:articles_event_import", args=[event.pk]), {"file": upload}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported" in html
    assert "Line 2: Unknown nation “XYZ”" in html
    assert "Line 4: B (NED) is already on line 3" in html
    assert event.results.count() == 1


def test_upload_without_a_file_is_a_400_with_a_message(client, editor):
    """Submitting the import form empty asks for a file."""
    event = make_event()
    response = client.post(reverse("admin:articles_event_import", args=[event.pk]), {})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_only_editors_may_import_results(client):
    """Moderators get 403 on the import page; anonymous visitors are sent to log in."""
    event = make_event()
    url = reverse("admin:articles_event_import", args=[event.pk])
    assert client.get(url).status_code == 302
    client.force_login(make_user(groups=["Moderators"]))
    assert client.get(url).status_code == 403


def test_import_page_of_an_unknown_event_is_404(client, editor):
    """A made-up event id in the import URL is a 404."""
    assert client.get(reverse("admin:articles_event_import", args=[999_999])).status_code == 404


def test_editor_attaches_events_to_a_story_by_searching(client, editor):
    """The article form finds events by name through autocomplete."""
    event = make_event(name="Women's 1000 m")
    make_event(name="Men's 10000 m relay")
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "articles", "model_name": "article", "field_name": "events", "term": "Women"},
    )
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [str(event.pk)]
