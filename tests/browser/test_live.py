"""Race day in a real browser with a real Pushpin: a reader keeps a live story or an event page
open while the desk posts entries and results arrive."""

import re
import time

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from articles import live, live_views
from articles.models import Article, Event
from tests.factories import make_athlete, make_live_entry, make_result
from tests.pushpin import EventStream, pushpin, requires_pushpin

from .steps import sign_in, visit

pytestmark = [pytest.mark.browser, requires_pushpin]
ARRIVAL_MS = 5_000  # the bound: an entry appears within 5 s without reload


@pytest.fixture
def front(demo, settings, tmp_path):
    # Asked for before open_page in each test, so the pages close before Pushpin stops.
    """Pushpin in front of the live server (the demo loaded); pages are read through it."""
    port = int(demo.url.rsplit(":", 1)[1])
    with pushpin(port, tmp_path) as (url, publish_url):
        settings.PUSHPIN_PUBLISH = publish_url
        # Held streams work once Pushpin's services have linked up (EventStream waits).
        probe = reverse("articles:live-results-stream") + f"?events={Event.objects.first().pk}"
        EventStream(url + probe).close()
        yield url


@pytest.fixture
def live_story(front):
    story = Article.objects.get(slug="leerdam-wins-olympic-1000m-gold")
    live.start_coverage(story)
    return story


def test_an_entry_posted_at_the_desk_appears_for_an_open_reader(front, live_story, open_page):
    reader = visit(open_page(), front + live_story.get_absolute_url())
    expect(reader.locator(".story-header .live-badge")).to_have_text("Live")

    editor = open_page()
    sign_in(editor, "desk", groups=["Editors"])
    visit(editor, reverse("admin:articles_liveentry_desk", args=[live_story.pk]))
    editor.fill("#id_body", "Pair 9: Leerdam *under* the record")
    with editor.expect_navigation():
        editor.press("#id_body", "Enter")  # Enter posts
    expect(editor.locator("#content-main table")).to_contain_text("Pair 9")

    first = reader.locator("#live-entries .live-entry").first
    expect(first).to_contain_text("Pair 9: Leerdam under the record", timeout=ARRIVAL_MS)
    expect(reader.locator(".live-announcer")).to_have_text("1 new update.")
    assert reader.evaluate("document.activeElement === document.body")  # focus never moved


def test_a_key_event_joins_the_summary_at_the_top(front, live_story, open_page):
    make_live_entry(article=live_story, body="Start of the race", key_event=True)
    reader = visit(open_page(), front + live_story.get_absolute_url())
    reader.wait_for_selector("#live[data-live-state=connected]", state="attached")
    entry = make_live_entry(article=live_story, body="**Olympic record** for Kok", key_event=True)
    first = reader.locator(".live-key-events li").first
    expect(first).to_contain_text("Olympic record for Kok", timeout=ARRIVAL_MS)
    assert first.locator("a").get_attribute("href") == f"#entry-{entry.pk}"


def test_a_reader_scrolled_down_gets_a_button_not_a_jump(front, live_story, open_page):
    reader = visit(open_page(), front + live_story.get_absolute_url())
    reader.wait_for_selector("#live[data-live-state=connected]", state="attached")
    reader.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    scrolled = reader.evaluate("window.scrollY")
    assert scrolled > 0
    entry = make_live_entry(article=live_story, body="Held for the reader")
    button = reader.locator(".live-new-button")
    expect(button).to_have_text("1 new update", timeout=ARRIVAL_MS)
    assert reader.locator(f"#entry-{entry.pk}").count() == 0
    assert reader.evaluate("window.scrollY") == scrolled  # no jump
    button.click()
    expect(reader.locator(f"#entry-{entry.pk}")).to_be_visible()
    expect(button).to_be_hidden()


def test_a_result_entered_appears_on_the_open_event_page(front, open_page):
    event = Event.objects.get(slug="milano-cortina-2026-speed-skating-women-500m")
    event.results_official = False
    event.save()
    reader = visit(open_page(), front + event.get_absolute_url())
    reader.wait_for_selector("html[data-live-results-state=connected]", state="attached")
    make_result(event=event, athlete=make_athlete(name="Newcomer Skater"), rank=6, time_ms=37400)
    expect(reader.locator(".results-page table")).to_contain_text(
        "Newcomer Skater", timeout=ARRIVAL_MS
    )
    event.results_official = True
    event.save()
    expect(reader.locator(".results-page .page-header .meta")).to_contain_text(
        "Official results", timeout=ARRIVAL_MS
    )


def test_a_reader_whose_stream_cannot_connect_gets_entries_by_polling(front, live_story, open_page):
    """A proxy or network that drops the stream: the page polls the small entries fragment and
    a new entry still appears within the bound, announced like a pushed one."""
    reader = open_page()
    blocked = []

    def drop(route):
        blocked.append(route.request.url)
        route.abort("aborted")  # as a dropped connection (the browser keeps retrying)

    reader.route(re.compile(r"/live/stream/"), drop)
    visit(reader, front + live_story.get_absolute_url())
    reader.wait_for_selector("#live[data-live-state=polling]", state="attached")
    assert blocked, "the stream was never asked for"
    with reader.expect_response(re.compile(r"/live/entries/$")):
        pass  # polling has started
    posted = time.monotonic()
    entry = make_live_entry(article=live_story, body="Pair 11: polled, not pushed")
    first = reader.locator("#live-entries .live-entry").first
    expect(first).to_contain_text("Pair 11: polled, not pushed", timeout=ARRIVAL_MS)
    assert time.monotonic() - posted < ARRIVAL_MS / 1000
    assert first.get_attribute("id") == f"entry-{entry.pk}"
    expect(reader.locator(".live-announcer")).to_have_text("1 new update.")
    assert reader.locator("#live[data-live-state=connected]").count() == 0


def test_an_open_page_says_so_when_the_desk_ends_coverage(front, live_story, open_page):
    reader = visit(open_page(), front + live_story.get_absolute_url())
    reader.wait_for_selector("#live[data-live-state=connected]", state="attached")
    live.end_coverage(live_story)
    expect(reader.locator(".live-status")).to_contain_text(
        "Live coverage ended", timeout=ARRIVAL_MS
    )
    expect(reader.locator(".live-announcer")).to_have_text("Live coverage has ended.")
    assert reader.locator(".live-badge").count() == 0  # neither in the header nor the section
    assert reader.locator("#live[data-live-state=ended]").count() == 1


def test_after_a_dropped_stream_the_reconnect_replays_what_was_missed(
    front, live_story, open_page, settings, monkeypatch
):
    """Pushpin drops the reader's stream; entries posted meanwhile reach no one. The browser
    reconnects with Last-Event-ID and the app replays them (polling is blocked here, so the
    replay is what shows them)."""
    import json
    import urllib.request

    reader = open_page()
    reader.route(re.compile(r"/live/entries/"), lambda route: route.abort("aborted"))
    streams = []  # the Last-Event-ID of each stream request the app answered
    last_event_id = live_views._last_event_id

    def recorded(request):
        streams.append(request.headers.get("Last-Event-ID"))
        return last_event_id(request)

    monkeypatch.setattr(live_views, "_last_event_id", recorded)
    visit(reader, front + live_story.get_absolute_url())
    reader.wait_for_selector("#live[data-live-state=connected]", state="attached")
    seen = make_live_entry(article=live_story, body="Seen live")
    expect(reader.locator(f"#entry-{seen.pk}")).to_be_visible(timeout=ARRIVAL_MS)

    close = {
        "channel": f"live-{live_story.pk}-changes",
        "formats": {"http-stream": {"action": "close"}},
    }
    request = urllib.request.Request(
        settings.PUSHPIN_PUBLISH,
        data=json.dumps({"items": [close]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 - loopback
    missed = [make_live_entry(article=live_story, body=f"Missed {n}") for n in (1, 2)]
    for entry in missed:
        expect(reader.locator(f"#entry-{entry.pk}")).to_be_visible(timeout=3 * ARRIVAL_MS)
    assert streams[0] is None and streams[-1] == str(seen.pk)  # replayed from the last one seen
    expect(reader.locator("#live[data-live-state=connected]")).to_have_count(1)


def test_an_entrys_picture_from_the_library_then_removed_reaches_an_open_reader(
    front, live_story, open_page
):
    """The desk posts an entry showing a library picture; an open reader sees it; the editor
    edits the entry and removes the picture; the reader's entry loses it without a reload."""
    from tests.factories import make_library_image

    image = make_library_image(alt="The Thialf oval from the stands")
    reader = visit(open_page(), front + live_story.get_absolute_url())
    reader.wait_for_selector("#live[data-live-state=connected]", state="attached")
    editor = open_page()
    sign_in(editor, "desk", groups=["Editors"])
    visit(editor, reverse("admin:articles_liveentry_desk", args=[live_story.pk]))
    editor.fill("#id_body", "A full house at Thialf")
    editor.select_option("#id_library_picture", value=str(image.pk))
    with editor.expect_navigation():
        editor.click("button[value=post]")
    picture = reader.locator('#live-entries .live-entry img[alt="The Thialf oval from the stands"]')
    expect(picture).to_be_visible(timeout=ARRIVAL_MS)
    with editor.expect_navigation():
        editor.click("#content-main table a:text('Edit')")
    editor.check("#id_remove_picture")
    with editor.expect_navigation():
        editor.click("input[name=_save]")
    expect(picture).to_have_count(0, timeout=ARRIVAL_MS)
    expect(reader.locator("#live-entries .live-entry").first).to_contain_text("A full house")
