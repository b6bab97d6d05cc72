"""A returning commenter (saved details, comments of their own waiting or still editable) gets the
story's kept page with only its comment section built for them: the same page a build from
nothing gives them, private, and without the story being read again (newsroom.caching.holes)."""

import re

import pytest
from django.core import signing
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comments import cookies
from comments.models import Comment
from newsroom.caching import holes

from .factories import make_article, make_comment

pytestmark = pytest.mark.django_db

# The one value of a page built for one reader that changes from request to request: the
# form's "shown at" token (it carries the time).
TOKEN = re.compile(r'(name="token" value=")[^"]*(")')


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 600
    settings.COMMENTS = {**settings.COMMENTS, "THREADS_PER_PAGE": 2}


def signed(base, value):
    return signing.dumps(value, salt=f"comments.{base}", compress=True)


def reader(**cookie_values):
    """A browser with the comments cookies given: pending=[ids], author={name, email, website},
    or raw=... for an unreadable one."""
    client = Client()
    if "pending" in cookie_values:
        value = signed(cookies.PENDING, cookie_values["pending"])
        client.cookies[cookies.cookie_name(cookies.PENDING)] = value
    if "author" in cookie_values:
        value = signed(cookies.AUTHOR, cookie_values["author"])
        client.cookies[cookies.cookie_name(cookies.AUTHOR)] = value
    if "raw" in cookie_values:
        client.cookies[cookies.cookie_name(cookies.AUTHOR)] = cookie_values["raw"]
    return client


def get(client, url):
    """(response, the SQL it ran)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, [query["sql"] for query in queries]


def reads_the_story(sql):
    return any('FROM "articles_article"' in query for query in sql)


@pytest.fixture
def story(committed):
    with committed():
        article = make_article(title="Leerdam wins gold", slug="leerdam-wins-gold")
        first = make_comment(article=article, name="Ada", body="First thread.")
        make_comment(article=article, name="Bo", body="A reply to Ada.", parent=first)
        make_comment(article=article, name="Cy", body="Second thread.")
        make_comment(article=article, name="Di", body="Third thread, on page two.")
    return article


def own_pending(story, **fields):
    return make_comment(
        article=story, status=Comment.Status.PENDING, name="Me", email="me@example.com", **fields
    )


CASES = {
    "an unreadable cookie": lambda story: ({"raw": "x"}, ""),
    "saved name, address and website": lambda story: (
        {"author": {"name": "Élodie", "email": "elodie@example.com", "website": "https://e.fr"}},
        "",
    ),
    "a waiting reply": lambda story: (
        {"pending": [own_pending(story, body="My waiting reply.", parent=first(story)).pk]},
        "",
    ),
    "a waiting thread, on the last page": lambda story: (
        {"pending": [own_pending(story, body="My waiting thread.").pk]},
        "?cpage=2",
    ),
    "a comment still editable": lambda story: (
        {"pending": [make_comment(article=story, name="Me", body="Editable words.").pk]},
        "",
    ),
    "a reply form, newest first": lambda story: (
        {"author": {"name": "Me", "email": "me@example.com", "website": ""}},
        f"?corder=newest&replyto={first(story).pk}",
    ),
}


def first(story):
    return Comment.objects.get(article=story, name="Ada")


@pytest.mark.parametrize("case", list(CASES))
def test_a_returning_commenter_gets_the_kept_page_with_their_own_comment_section(
    story, case, committed
):
    with committed():
        cookie_values, query = CASES[case](story)
    url = story.get_absolute_url() + query
    Client().get(url)  # a reader without cookies: the public page is kept

    filled, filled_sql = get(reader(**cookie_values), url)
    assert not reads_the_story(filled_sql), "the kept page is used, only its comments built"
    assert "no-store" in filled["Cache-Control"] and "private" in filled["Cache-Control"]
    assert "Cookie" in filled["Vary"]
    assert "Content-Encoding" not in filled

    cache.clear()
    whole, whole_sql = get(reader(**cookie_values), url)  # nothing kept: built whole
    assert reads_the_story(whole_sql)
    same = TOKEN.sub(r"\1\2", filled.content.decode())
    assert same == TOKEN.sub(r"\1\2", whole.content.decode())
    for name in ("Content-Type", "Content-Security-Policy", "Cache-Control", "Vary"):
        assert filled.get(name) == whole.get(name), name


def test_what_the_section_shows_is_the_readers_own(story, committed):
    url = story.get_absolute_url()
    Client().get(url)
    with committed():
        mine = own_pending(story, body="My waiting reply.", parent=first(story))
    saved = {"name": "Élodie", "email": "elodie@example.com", "website": ""}
    html = reader(pending=[mine.pk], author=saved).get(url).content.decode()
    assert "My waiting reply." in html and "awaiting moderation" in html
    assert 'value="elodie@example.com"' in html
    public = Client().get(url).content.decode()
    assert "My waiting reply." not in public and "elodie@example.com" not in public
    assert "<!--hole" not in public and "<!--/hole" not in public


def test_a_page_without_comments_is_the_kept_one_for_a_returning_commenter(story):
    home = reverse("articles:home")
    public = Client().get(home)
    filled, sql = get(reader(author={"name": "Me", "email": "me@example.com", "website": ""}), home)
    assert sql == []
    assert filled.content == Client().get(home, headers={"accept-encoding": ""}).content
    assert public.content == filled.content
    assert "no-store" in filled["Cache-Control"]


def test_a_signed_in_reader_gets_the_page_built_whole(story, django_user_model):
    url = story.get_absolute_url()
    Client().get(url)
    client = reader(raw="x")
    client.force_login(django_user_model.objects.create_user("someone", password="x" * 20))
    _response, sql = get(client, url)
    assert reads_the_story(sql)


def test_a_changed_story_is_not_served_from_the_old_kept_page(story, committed):
    url = story.get_absolute_url()
    Client().get(url)
    with committed():
        story.title = "Leerdam wins gold again"
        story.save()
    html = reader(raw="x").get(url).content.decode()
    assert "Leerdam wins gold again" in html


def test_a_page_reading_the_comment_cookies_outside_a_hole_is_never_filled():
    """The rule behind it: whoever reads a comments cookie says so, and outside a hole that
    makes the page being kept unfit (every personal request for it is then built whole)."""
    request = RequestFactory().get("/")
    with holes.punching() as punched:
        html = holes.punch("comments", lambda: "<p>section</p>", lambda: ("story",))
        assert punched.fit
        cookies.own_ids(request)
    assert not punched.fit
    content, found = holes.cut(f"<main>{html}</main>".encode(), punched)
    assert content == b"<main><p>section</p></main>" and found is None

    with holes.punching() as punched:
        html = holes.punch("comments", lambda: str(cookies.own_ids(request)), lambda: ("s",))
    content, found = holes.cut(f"<main>{html}</main>".encode(), punched)
    assert content == b"<main>[]</main>"
    assert found == (("comments", ("s",), 6, 8),)


def test_hole_marks_without_their_record_are_taken_out_and_never_filled():
    """A hole inside a kept fragment would be kept with its marks but not its record."""
    with holes.punching() as punched:
        pass
    content, found = holes.cut(b"<p><!--hole 0-->old<!--/hole 0--></p>", punched)
    assert content == b"<p>old</p>" and found is None


def test_a_returning_commenter_gets_the_styled_503_when_the_database_is_down(
    story, committed, monkeypatch
):
    """With the database gone, readers without cookies still get the kept page, and a returning
    commenter, whose comment section needs the database, gets the site's 503 with Retry-After,
    as when their page is built whole: never a 500 from filling the hole. (The failure is
    injected where the driver runs each statement, as in tests/test_faults.py.)"""
    url = story.get_absolute_url()
    with committed():
        mine = own_pending(story, body="Mine, waiting.")
    assert Client().get(url).status_code == 200  # kept

    def refused(self, *args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", refused)
    assert Client().get(url).status_code == 200
    commenter = reader(pending=[mine.pk])
    commenter.raise_request_exception = False
    response = commenter.get(url)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "briefly unavailable" in response.content.decode()
