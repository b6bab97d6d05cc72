"""The editors' desk in a real browser: nothing chosen or typed is lost, two editors see each
other, the form reads well at 1280 and 375 px, and its pages pass axe."""

import re

import pytest
from playwright.sync_api import expect

from articles import revisions
from articles.models import Article
from tests.factories import image_bytes

from .steps import sign_in, visit
from .test_accessibility import axe_violations

pytestmark = pytest.mark.browser

ADD = "/admin/articles/article/add/"
STORY_SLUG = "leerdam-wins-olympic-1000m-gold"


def change_path(article):
    return f"/admin/articles/article/{article.pk}/change/"


def fill_story(page, title="Schouten takes the mass start"):
    page.fill("#id_title", title)
    page.fill("#id_standfirst", "A late attack on the last lap wins it.")
    page.fill("#id_body", "Irene Schouten waited, then **went**.")
    page.select_option("#id_section", label="Speed skating")


def save(page):
    with page.expect_navigation():
        page.click("input[name=_continue]")


def test_the_hero_survives_a_forgotten_alt_text(open_page, tmp_path):
    """An editor chooses a picture, forgets its alt text and saves: the error keeps the picture
    ("Keeping ..."), and once the alt text is typed the story is saved with it."""
    hero = tmp_path / "mass-start.jpg"
    hero.write_bytes(image_bytes(size=(1700, 900), color=(200, 40, 60)))
    editor = open_page()
    sign_in(editor, "edna", groups=["Editors"])
    visit(editor, ADD)
    fill_story(editor)
    editor.set_input_files("#id_hero_image", hero)
    save(editor)
    expect(editor.locator(".errornote")).to_be_visible()
    expect(editor.locator(".field-hero_alt .errorlist")).to_contain_text("Describe the hero")
    expect(editor.locator(".kept-upload")).to_contain_text("Keeping mass-start.jpg")
    editor.fill("#id_hero_alt", "A skater crossing the line with arms raised.")
    save(editor)
    expect(editor.locator(".messagelist .success").first).to_be_visible()
    article = Article.objects.get(slug="schouten-takes-the-mass-start")
    assert article.hero_renditions
    assert article.hero_image.name.endswith(".jpg")
    expect(editor.locator(".field-hero_preview img")).to_be_visible()


def test_autosaved_text_comes_back_after_the_page_is_closed(chromium, open_page):
    """An editor types, the tab is closed without saving; reopening the story offers the text
    from the autosave, and taking the offer puts it back in the form."""
    article = Article.objects.get(slug=STORY_SLUG)
    editor = open_page()
    sign_in(editor, "edna", groups=["Editors"])
    visit(editor, change_path(article))
    editor.locator("#id_body").press("Control+End")
    editor.keyboard.type(" A sentence typed just now.", delay=5)
    expect(editor.locator("#desk-autosave-status")).to_contain_text("Autosaved at", timeout=8000)
    context = editor.context
    editor.close()  # no beforeunload: the tab is simply gone
    article.refresh_from_db()
    assert "typed just now" not in article.body
    page = context.new_page()
    visit(page, change_path(article))
    offer = page.locator("#desk-autosave-offer a")
    expect(offer).to_contain_text("Restore autosaved text from")
    with page.expect_navigation():
        offer.click()
    expect(page.locator("#id_body")).to_have_value(re.compile("A sentence typed just now"))


def test_leaving_with_unsaved_changes_asks_first(open_page):
    """After typing, leaving the page asks (beforeunload); a page not changed leaves at once."""
    article = Article.objects.get(slug=STORY_SLUG)
    editor = open_page()
    sign_in(editor, "edna", groups=["Editors"])
    visit(editor, change_path(article))
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    editor.on("dialog", answer)
    editor.fill("#id_title", "A changed headline")
    editor.locator("#content-main").click(position={"x": 5, "y": 5})  # a real gesture
    editor.evaluate("() => { window.location.href = '/admin/'; }")
    editor.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert "/change/" in editor.url


def test_a_save_over_a_colleagues_newer_save_names_them(open_page):
    """Two editors open one story; Maria saves first; the other's save is refused, naming Maria
    and showing her version, with the other's text still in the form."""
    article = Article.objects.get(slug=STORY_SLUG)
    maria = open_page()
    sign_in(maria, "maria", groups=["Editors"], first_name="Maria", last_name="Jansen")
    edna = open_page()
    sign_in(edna, "edna", groups=["Editors"])
    visit(maria, change_path(article))
    visit(edna, change_path(article))
    expect(edna.locator("#desk-presence")).to_contain_text(
        "Also editing this story now: Maria Jansen"
    )
    maria.fill("#id_title", "Maria's headline")
    save(maria)
    edna.fill("#id_title", "Edna's headline")
    save(edna)
    expect(edna.locator(".errorlist.nonfield")).to_contain_text("Maria Jansen saved this story at")
    expect(edna.locator(".desk-conflict")).to_contain_text("Maria's headline")
    expect(edna.locator("#id_title")).to_have_value("Edna's headline")
    article.refresh_from_db()
    assert article.title == "Maria's headline"


def test_an_editor_who_leaves_the_page_stops_being_shown_as_editing(open_page):
    """Maria has the story open, then goes elsewhere: the page tells the server as it goes
    (a beacon on pagehide), and Edna's page no longer names her, long before the heartbeat's
    expiry."""
    article = Article.objects.get(slug=STORY_SLUG)
    maria = open_page()
    sign_in(maria, "maria", groups=["Editors"], first_name="Maria", last_name="Jansen")
    edna = open_page()
    sign_in(edna, "edna", groups=["Editors"])
    visit(maria, change_path(article))
    visit(edna, change_path(article))
    expect(edna.locator("#desk-presence")).to_contain_text("Maria Jansen")
    visit(maria, "/admin/")
    visit(edna, change_path(article))
    expect(edna.locator("#desk-presence")).not_to_contain_text("Maria Jansen")


@pytest.mark.parametrize("width", [1280, 375])
def test_the_story_form_fits_and_passes_axe(open_page, width):
    """Add, change, history and compare pages at 1280 and 375 px: title, standfirst and body
    in that order, a body box of at least 20 lines, no page wider than the window, and axe
    finds no serious or critical violation (docs/screenshots.py photographs these pages)."""
    article = Article.objects.get(slug=STORY_SLUG)
    revisions.record([article], user=None, comment="Before the desk")
    editor = open_page(viewport={"width": width, "height": 900})
    sign_in(editor, "edna", groups=["Editors"])
    visit(editor, change_path(article))
    editor.fill("#id_title", "Leerdam wins the Olympic 1000 m in a record")
    save(editor)
    pages = {
        "add": ADD,
        "change": change_path(article),
        "history": f"/admin/articles/article/{article.pk}/history/",
    }
    for name, path in pages.items():
        visit(editor, path)
        assert axe_violations(editor) == [], name
        wide = editor.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= width + 1, f"{name} is {wide} px wide at {width} px"
        if name in ("add", "change"):
            boxes = [
                editor.locator(f"#id_{f}").bounding_box() for f in ("title", "standfirst", "body")
            ]
            assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
            assert boxes[2]["height"] >= 20 * 14  # at least 20 lines of text
            assert boxes[0]["width"] >= min(600, width - 80)
    with editor.expect_navigation():
        editor.get_by_role("button", name="Compare the chosen versions").click()
    expect(editor.locator(".desk-diff")).to_contain_text("Title")
    assert axe_violations(editor) == []


@pytest.mark.parametrize("width", [1280, 375])
def test_the_results_table_fits_and_its_crosses_are_the_rows(open_page, width):
    """The event's results inline fits its box at 1280 px, Delete column included, and scrolls
    inside it at 375 px; beside an athlete there is no cross that deletes the athlete."""
    from articles.models import Event

    event = Event.objects.get(slug="milano-cortina-2026-speed-skating-women-1000m")
    page = open_page(viewport={"width": width, "height": 900})
    sign_in(page, "edna", groups=["Editors"])
    visit(page, f"/admin/articles/event/{event.pk}/change/")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    table = page.locator(".inline-group .tabular").first
    expect(table.locator(".field-athlete .delete-related")).to_have_count(0)
    expect(table.locator(".field-athlete .change-related")).to_have_count(0)
    if width == 1280:
        box = table.bounding_box()
        delete = table.locator("td.delete input[type=checkbox]").first.bounding_box()
        assert delete["x"] + delete["width"] <= box["x"] + box["width"]


def test_without_javascript_the_form_saves_and_the_autosave_offer_works(open_page):
    """JavaScript off: the story saves as before, and an autosave offer is a plain link that
    puts the kept text back in the form."""
    from articles.models import Autosave

    article = Article.objects.get(slug=STORY_SLUG)
    editor = open_page(java_script_enabled=False)
    user = sign_in(editor, "edna", groups=["Editors"])
    visit(editor, change_path(article))
    editor.fill("#id_title", "Saved with no script at all")
    save(editor)
    expect(editor.locator(".messagelist .success").first).to_be_visible()
    Autosave.objects.create(article=article, user=user, data={"body": "Kept by the server."})
    visit(editor, change_path(article))
    with editor.expect_navigation():
        editor.click("#desk-autosave-offer a")
    expect(editor.locator("#id_body")).to_have_value("Kept by the server.")


def test_a_library_picture_is_inserted_into_the_body_and_shown_to_readers(open_page, tmp_path):
    """An editor uploads a picture to the library (alt text required), opens a story, presses
    its "Insert into body" button, saves; readers see it with srcset and lazy loading. The
    library's pages pass axe."""
    from articles.models import LibraryImage

    picture = tmp_path / "oval.png"
    picture.write_bytes(image_bytes("PNG", size=(1400, 800), color=(20, 120, 90)))
    article = Article.objects.get(slug=STORY_SLUG)
    editor = open_page()
    sign_in(editor, "edna", groups=["Editors"])
    visit(editor, "/admin/articles/libraryimage/add/")
    assert axe_violations(editor) == []
    editor.set_input_files("#id_image", picture)
    editor.fill("#id_alt", "The Thialf oval from the stands")
    with editor.expect_navigation():
        editor.click("input[name=_save]")
    image = LibraryImage.objects.get(alt="The Thialf oval from the stands")
    assert axe_violations(editor) == []  # the library's list
    visit(editor, change_path(article))
    editor.locator("#id_body").press("Control+End")
    editor.click(f'button[data-insert="[image:{image.pk}]"]')
    expect(editor.locator("#id_body")).to_have_value(re.compile(rf"\n\n\[image:{image.pk}\]$"))
    save(editor)
    expect(editor.locator(".messagelist .success").first).to_be_visible()
    reader = open_page()
    visit(reader, article.get_absolute_url())
    shown = reader.locator('figure img[alt="The Thialf oval from the stands"]')
    expect(shown).to_be_visible()
    assert shown.get_attribute("loading") == "lazy" and ".webp" in shown.get_attribute("srcset")


def test_without_javascript_the_library_snippet_is_there_to_copy(open_page):
    from tests.factories import make_library_image

    image = make_library_image()
    editor = open_page(java_script_enabled=False)
    sign_in(editor, "edna", groups=["Editors"])
    visit(editor, ADD)
    expect(editor.locator(".library-snippet").first).to_have_text(f"[image:{image.pk}]")
    expect(editor.locator("button.library-insert").first).to_be_hidden()
