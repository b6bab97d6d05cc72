"""Robots and pranksters throw junk at every public URL and at the comment form: random
Unicode, control characters, NUL bytes, huge values, broken encodings. Never a 500."""

import itertools
import os
import urllib.parse

import pytest
from django.core.cache import cache
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import Result

from .factories import (
    comment_form_data,
    make_article,
    make_athlete,
    make_comment,
    make_event,
    make_tag,
)

pytestmark = pytest.mark.django_db
_readers = itertools.count()

FUZZ = settings(
    # CI replays the same examples every run, so a red build is reproducible; locally, explore.
    derandomize=bool(os.environ.get("CI")),
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KNOWN_PARAMETERS = ["q", "page", "replyto", "sport", "year", "next", "sort", "type", "format"]
NASTY_VALUES = [
    "",
    "-1",
    "0",
    "1e309",
    "99999999999999999999999999",
    "NaN",
    "../../etc/passwd",
    "' OR 1=1 --",
    "<script>",
    "%",
    "%zz",
    "\x00",
    "\ud7ff\ue000\uffff",
    "a" * 10_000,
]

values = st.one_of(
    st.sampled_from(NASTY_VALUES),
    st.text(max_size=300),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp"]), max_size=50),
    st.integers().map(str),
)
query_pairs = st.lists(
    st.tuples(st.one_of(st.sampled_from(KNOWN_PARAMETERS), st.text(max_size=20)), values),
    max_size=4,
)
raw_queries = st.binary(max_size=200).map(lambda raw: urllib.parse.quote_from_bytes(raw, "=&"))


@pytest.fixture
def public_urls():
    """One of every public page, with real objects behind it."""
    tag = make_tag()
    event = make_event()
    athlete = make_athlete()
    Result.objects.create(event=event, athlete=athlete, rank=1, time_ms=74_000)
    article = make_article(tags=[tag], events=[event])
    make_comment(article=article)
    return [
        "/",
        "/search/",
        "/results/",
        "/feed/",
        "/feed/atom/",
        "/sitemap.xml",
        "/robots.txt",
        "/healthz",
        "/archive/",
        "/admin/login/",
        article.get_absolute_url(),
        article.section.get_absolute_url(),
        tag.get_absolute_url(),
        event.get_absolute_url(),
        event.competition.get_absolute_url(),
        athlete.get_absolute_url(),
        reverse("articles:event-csv", args=[event.slug]),
        reverse("articles:feed", args=[]) + "?x=1",
        reverse("articles:section-feed", args=[article.section.slug]),
    ]


def assert_handled(response, url):
    assert response.status_code < 500, (url, response.status_code)


@FUZZ
@given(data=st.data())
def test_any_query_string_on_any_public_url_is_handled(client, public_urls, data):
    """Random parameters and values on every public page: a page or a 4xx, never a 500."""
    url = data.draw(st.sampled_from(public_urls))
    pairs = data.draw(query_pairs)
    query = urllib.parse.urlencode(pairs)
    assert_handled(client.get(url, QUERY_STRING=query), f"{url}?{query}")


@FUZZ
@given(data=st.data())
def test_raw_bytes_in_query_strings_are_handled(client, public_urls, data):
    """Query strings that are not valid UTF-8 or not valid percent-encoding are handled."""
    url = data.draw(st.sampled_from(public_urls))
    query = data.draw(raw_queries)
    assert_handled(client.get(url, QUERY_STRING=query), f"{url}?{query}")


paths = st.one_of(
    st.text(max_size=60).map(lambda text: text.encode("utf-8")),
    st.binary(max_size=60),
)


@FUZZ
@given(raw=paths)
def test_any_path_is_handled(client, raw):
    """Any path at all, including control characters, odd Unicode and bytes that are not
    UTF-8: a page or a 4xx. (WSGI hands paths over as Latin-1 text.)"""
    path_info = "/" + raw.decode("latin-1")
    assert_handled(client.get("/", PATH_INFO=path_info), repr(raw))


comment_fields = st.fixed_dictionaries(
    {},
    optional={
        "name": values,
        "email": st.one_of(values, st.emails()),
        "website": st.one_of(values, st.sampled_from(["javascript:alert(1)", "http://x"])),
        "body": values,
        "parent": st.one_of(values, st.integers().map(str)),
        "url": values,
        "token": values,
        "remember": values,
    },
)


@settings(FUZZ, max_examples=80)  # each example renders a whole article page
@given(fields=comment_fields)
def test_any_comment_form_post_is_handled(client, fields):
    """The comment form, filled with anything (or missing fields): a clear answer, no 500,
    and an accepted comment is stored exactly as typed."""
    cache.clear()
    article = make_article()
    data = comment_form_data(article, **fields)
    # Each example is a new reader, not one reader over the rate limit.
    reader = f"198.51.100.{next(_readers) % 250 + 1}"
    response = client.post(reverse("comments:post", args=[article.slug]), data, REMOTE_ADDR=reader)
    # 200: sent with an empty token, the comment is shown again to be confirmed.
    assert response.status_code in {200, 303, 400}, response.status_code
    if response.status_code == 303:
        assert [c.body for c in article.comments.all()] in ([], [data["body"]])
