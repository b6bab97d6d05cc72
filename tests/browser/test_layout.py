"""Pages fit phones and desktops: no sideways scrolling, readable text, tables that scroll alone."""

import pytest

from .steps import visit

pytestmark = pytest.mark.browser

WIDTHS = [320, 375, 768, 1280]
PAGES = {
    "home": "/",
    "article": "/stories/leerdam-wins-olympic-1000m-gold/",
    "event": "/results/events/milano-cortina-2026-speed-skating-women-1000m/",
    "medal table": "/results/milano-cortina-2026/",
}
# Running text: paragraphs, list items and table cells, but not the small print (dates,
# kickers, captions, breadcrumbs) that is deliberately smaller and never the story itself.
BODY_TEXT = (
    "main :is(p, li, td, th):not(.meta, .kicker, .meta *, .kicker *, figcaption *, "
    ".breadcrumbs *, .form-text, .comment-permalink, .tag-list *)"
)
SMALLEST_TEXT = f"""() => {{
  const sizes = [document.body, ...document.querySelectorAll("{BODY_TEXT}")]
    .filter((element) => element.offsetParent !== null || element === document.body)
    .map((element) => [
      parseFloat(getComputedStyle(element).fontSize), element.outerHTML.slice(0, 80),
    ]);
  return sizes.reduce((smallest, size) => (size[0] < smallest[0] ? size : smallest));
}}"""


@pytest.fixture
def page_at(open_page):
    def page_at(width):
        return open_page(viewport={"width": width, "height": 800})

    return page_at


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_fit_the_screen_with_readable_text(page_at, width):
    """At each width no page scrolls sideways and running text is at least 16 px."""
    page = page_at(width)
    for name, path in PAGES.items():
        visit(page, path)
        header = page.evaluate("() => getComputedStyle(document.querySelector('header')).color")
        assert header == "rgb(255, 255, 255)", f"{name}: the site's stylesheet did not apply"
        scroll_width, inner_width = page.evaluate(
            "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width, f"{name} scrolls sideways at {width} px"
        size, element = page.evaluate(SMALLEST_TEXT)
        assert size >= 16, f"{name} at {width} px: {size} px text in {element}"


@pytest.mark.parametrize("path", [PAGES["article"], PAGES["event"], PAGES["medal table"]])
def test_tables_scroll_inside_their_own_box_on_a_small_phone(page_at, path):
    """At 320 px a wide table scrolls inside its box (reachable by keyboard), not the page."""
    page = visit(page_at(320), path)
    boxes = page.locator(".table-scroll")
    assert boxes.count() > 0
    for box in boxes.all():
        assert box.evaluate("box => getComputedStyle(box).overflowX") == "auto"
        assert box.get_attribute("tabindex") == "0"  # keyboard users can scroll it too
        box_width = box.evaluate("box => box.clientWidth")
        assert box.locator("table").evaluate("table => table.offsetWidth") >= box_width
        if box.evaluate("box => box.scrollWidth > box.clientWidth"):
            box.evaluate("box => { box.scrollLeft = 40; }")
            assert box.evaluate("box => box.scrollLeft") > 0
    assert page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")


PHONES = [320, 375, 414]
PHONE_PAGES = {
    "event": PAGES["event"],
    "article with results": PAGES["article"],
    "medal table": PAGES["medal table"],
    "medallist's athlete page": "/athletes/jutta-leerdam/",
}
# Where a cell's right edge is, against its table's scroll box: on screen now, or reachable by
# scrolling a box that keyboard users can focus and screen readers hear a name for.
CELL_PLACES = """(cells) => cells.map((cell) => {
  const box = cell.closest(".table-scroll");
  const right = cell.getBoundingClientRect().right;
  return {
    text: cell.textContent.trim(),
    onScreen: right <= window.innerWidth + 0.5,
    inBox: right <= box.getBoundingClientRect().right + 0.5,
    scrolls: box.scrollWidth > box.clientWidth,
    labelled: box.getAttribute("role") === "region" && box.getAttribute("tabindex") === "0"
      && !!document.getElementById(box.getAttribute("aria-labelledby") || "-"),
    hint: !!box.previousElementSibling && box.previousElementSibling.matches(".scroll-hint")
      && box.previousElementSibling.offsetParent !== null,
  };
})"""


@pytest.mark.parametrize("width", PHONES)
def test_phone_pages_do_not_scroll_sideways_and_show_times_first(page_at, width):
    """On a phone no results page scrolls sideways (hidden medal texts included), the time of
    every result is on screen without scrolling, and every medal column of the medal table is
    visible or in a labelled box that says it scrolls."""
    page = page_at(width)
    for name, path in PHONE_PAGES.items():
        visit(page, path)
        scroll_width, inner_width = page.evaluate(
            "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width, f"{name} scrolls sideways at {width} px"
        times = page.locator(".results-table thead th", has_text="Time")
        assert times.count() > 0 or name == "medal table", f"{name} shows no results table"
        for place in times.evaluate_all(CELL_PLACES):
            assert place["onScreen"] and place["inBox"], f"{name}: time off screen at {width} px"
        medals = page.locator(".medal-table thead th")
        assert medals.count() > 0 or name != "medal table", "the medal table is missing"
        for place in medals.evaluate_all(CELL_PLACES):
            if not (place["onScreen"] and place["inBox"]):
                assert place["scrolls"] and place["labelled"] and place["hint"], (
                    f"{name}: {place['text']} hidden at {width} px with no labelled scroll hint"
                )
        for box in page.locator(".table-scroll").all():
            if box.evaluate("box => box.scrollWidth > box.clientWidth"):
                hint = box.locator("xpath=preceding-sibling::*[1][contains(@class, 'scroll-hint')]")
                assert hint.is_visible(), f"{name}: no hint that its table scrolls at {width} px"


@pytest.mark.parametrize("width", [320])
def test_visually_hidden_text_never_widens_a_page(page_at, width):
    """A screen-reader-only text anywhere in a table (here: a long one in each table's last
    cell, where a wide row ends off screen) leaves the page as wide as the screen."""
    page = page_at(width)
    for name, path in PHONE_PAGES.items():
        visit(page, path)
        page.evaluate(
            """() => document.querySelectorAll(".table-scroll tr").forEach((row) => {
                 const text = document.createElement("span");
                 text.className = "visually-hidden";
                 text.textContent = " (a long text for screen readers only)".repeat(4);
                 row.lastElementChild.append(text);
               })"""
        )
        scroll_width, inner_width = page.evaluate(
            "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width, f"{name}: hidden text widens the page at {width} px"
