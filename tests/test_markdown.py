"""An editor writes a story body in Markdown and readers see what was meant: run-downs keep their
places, code blocks stay code, and a year cut short takes an apostrophe."""

import pytest

from articles.markdown import render_markdown

from .factories import make_article


def test_a_run_down_from_fourth_place_keeps_its_numbers():
    """ "4. ... 5. ... 6. ..." is places 4 to 6, not 1 to 3."""
    html = render_markdown("Behind the podium:\n\n4. Takagi\n5. Kok\n6. Visser\n")
    assert '<ol start="4">' in html
    assert html.count("<li>") == 3


def test_a_list_from_one_has_no_start():
    """The usual list needs no start attribute."""
    assert "<ol>" in render_markdown("1. Leerdam\n2. Kok\n")


@pytest.mark.parametrize("start", ['"x"', '"-1"', '"4 onclick=alert(1)"', '"½"'])
def test_a_start_that_is_not_a_whole_number_is_dropped(start):
    """Raw HTML cannot slip a junk start attribute past the sanitiser."""
    html = render_markdown(f"<ol start={start}><li>a</li></ol>")
    assert "start" not in html and "onclick" not in html


def test_fenced_code_blocks_are_code_and_stay_escaped():
    """``` fences make a code block; what is inside is shown, not run."""
    html = render_markdown("```\nrank,athlete\n1,<script>x</script>\n```\n")
    assert "<pre><code>rank,athlete\n1,&lt;script&gt;x&lt;/script&gt;\n</code></pre>" in html
    assert "<script>" not in html


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("the Games of '26", "the Games of ’26"),
        ("back in '98, and '06.", "back in ’98, and ’06."),
        ("the '80s", "the ’80s"),
        ("it's Leerdam's", "it’s Leerdam’s"),
        ("she said 'gold'", "she said ‘gold’"),
        ('"Gold", she said', "“Gold”, she said"),
    ],
)
def test_a_year_cut_short_takes_an_apostrophe_and_quotes_still_curl(text, shown):
    """'26 is ’26 (an apostrophe), while real quotes still open and close."""
    assert f"<p>{shown}</p>" in render_markdown(text)


@pytest.mark.django_db
def test_readers_see_the_run_down_on_the_article_page(client):
    """The article page shows the list with its places and the year with its apostrophe."""
    story = make_article(body="On to the Games of '26.\n\n4. Takagi\n5. Kok\n")
    html = client.get(story.get_absolute_url()).content.decode()
    assert '<ol start="4">' in html
    assert "Games of ’26" in html
