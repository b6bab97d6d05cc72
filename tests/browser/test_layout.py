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
