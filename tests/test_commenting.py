"""A reader leaves a comment or a reply under a story, and reads the discussion."""

import itertools
import re
import shutil
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.html import format_html as django_format_html
from django.utils.html import format_html_join as django_format_html_join
from django.utils.safestring import SafeString, mark_safe
from hypothesis import given
from hypothesis import strategies as st

from comments import rendering
from comments.models import Comment
from newsroom import dates

from .factories import comment_form_data, make_article, make_comment

pytestmark = pytest.mark.django_db

_addresses = itertools.count(1)


def post(client, article, **fields):
    """Post the comment form from a fresh client address (so the rate limit stays out of it)."""
    address = f"203.0.113.{next(_addresses) % 250 + 1}"
    return client.post(
        reverse("comments:post", kwargs={"slug": article.slug}),
        comment_form_data(article, **fields),
        REMOTE_ADDR=address,
    )


class Elements(HTMLParser):
    """Every element and attribute a browser would build from some HTML."""

    def __init__(self, html):
        super().__init__()
        self.found = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_no_active_markup(html):
    """No script element, no event handler attribute, no javascript: link."""
    for tag, attrs in Elements(html).found:
        assert tag not in ("script", "img", "iframe", "svg") or attrs.get("src", "").startswith(
            "/static/"
        ), (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not attrs.get("href", "").strip().lower().startswith("javascript"), attrs


def section(response):
    html = response.content.decode()
    return html[html.index('<section id="comments"') :]


# --- The form ------------------------------------------------------------------------------


def test_open_story_shows_the_form_with_required_fields_marked(client):
    """The form has the contract's fields, marks required ones and promises email privacy."""
    article = make_article()
    html = section(client.get(article.get_absolute_url()))
    assert "Leave a comment" in html
    assert "Your email address will not be published. Required fields are marked *" in html
    for name in ("name", "email", "website", "body", "parent"):
        assert f'name="{name}"' in html
    for label in ("Comment", "Name", "Email"):
        assert f'{label}<span class="asteriskField">*</span>' in html
    assert 'Website<span class="asteriskField">' not in html
    # Kept for every reader: no CSRF token and no "shown at" time of one reader in it.
    assert 'name="csrfmiddlewaretoken"' not in html
    assert 'name="token" value=""' in html
    assert reverse("comments:post", kwargs={"slug": article.slug}) in html
    assert reverse("comments:token", kwargs={"slug": article.slug}) in html


def test_posting_creates_a_pending_comment_and_redirects_to_it(client):
    """A valid comment is saved as pending and the reader lands on its anchor (303)."""
    article = make_article()
    response = post(client, article, body="Great race!\nWhat a finish.")
    comment = Comment.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"{article.get_absolute_url()}#c{comment.pk}"
    assert comment.status == Comment.Status.PENDING
    assert comment.status_reason == "held: new commenter"
    assert comment.body == "Great race!\nWhat a finish."
    assert (comment.name, comment.email, comment.article) == (
        "Ada Reader",
        "ada@example.com",
        article,
    )


def test_author_sees_their_pending_comment_marked(client):
    """After posting, the author's own comment shows, marked as awaiting moderation."""
    article = make_article()
    post(client, article, body="My pending thoughts.")
    comment = Comment.objects.get()
    html = section(client.get(article.get_absolute_url()))
    assert f'id="c{comment.pk}"' in html
    assert "Your comment is awaiting moderation" in html
    assert "My pending thoughts." in html
    assert "No comments yet" in html  # the heading counts approved comments only


def test_get_on_the_post_address_goes_to_the_form(client):
    """Opening the form's address directly leads back to the story's form, not an error."""
    article = make_article()
    response = client.get(reverse("comments:post", kwargs={"slug": article.slug}))
    assert response.status_code == 302
    assert response["Location"] == f"{article.get_absolute_url()}#respond"


def test_unpublished_story_takes_no_comments(client):
    """Posting to a draft is a 404, and nothing is saved."""
    article = make_article(status="draft")
    assert post(client, article).status_code == 404
    assert not Comment.objects.exists()


def test_csrf_token_is_enforced_where_a_session_exists(admin_user):
    """A signed-in browser's post without its CSRF token is refused with 403; its page carries
    the token."""
    article = make_article()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    html = client.get(article.get_absolute_url()).content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    response = client.post(
        reverse("comments:post", kwargs={"slug": article.slug}), comment_form_data(article)
    )
    assert response.status_code == 403
    assert not Comment.objects.exists()


# --- Validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("name", "Enter your name."),
        ("email", "Enter your email address."),
        ("body", "Write your comment."),
    ],
)
def test_each_required_field_missing_is_refused(client, field, message):
    """A missing required field shows its message by the field, keeps the rest, saves nothing."""
    article = make_article()
    response = post(client, article, **{field: "  "}, website="https://kept.example")
    assert response.status_code == 400
    html = section(response)
    assert message in html
    assert f'id="id_{field}_error"' in html
    assert 'value="https://kept.example"' in html
    assert "Your comment was not posted" in html
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "N" * 81}, "Shorten your name to 80 characters or fewer."),
        ({"name": "Bad\x07name"}, "Your name contains invisible control characters"),
        ({"name": "Evil\u202ename"}, "Your name contains invisible control characters"),
        ({"email": "not-an-email"}, "Enter an email address like name@example.com."),
        ({"email": "a@b@c.com"}, "Enter an email address like name@example.com."),
        ({"website": "ftp://files.example.com"}, "starts with http:// or https://"),
        ({"website": "javascript:alert(1)"}, "starts with http:// or https://"),
        ({"website": "https://" + "a" * 200 + ".com"}, "Shorten the web address"),
        ({"body": "x"}, "Your comment is too short: write at least 2 characters."),
        ({"body": "x" * 5001}, "Your comment is too long (5,001 characters)"),
        ({"body": "Hello\x00there"}, "Null characters are not allowed."),
        ({"body": "Hello\x1bthere"}, "Your comment contains invisible control characters"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(client, fields, message):
    """Each bad value is a 400 with a message that says what to fix; nothing is saved."""
    article = make_article()
    response = post(client, article, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Comment.objects.exists()


def test_typed_values_are_kept_after_an_error(client):
    """The reader's name, email, website and text come back in the re-shown form."""
    article = make_article()
    response = post(client, article, name="Ada <Lovelace>", website="https://ada.example", body="x")
    html = section(response)
    assert 'value="Ada &lt;Lovelace&gt;"' in html
    assert 'value="ada@example.com"' in html
    assert 'value="https://ada.example"' in html
    assert ">\nx</textarea>" in html


def test_form_errors_page_is_private(client):
    """A re-shown form holds what the reader typed, so no cache may keep it."""
    article = make_article()
    response = post(client, article, body="x")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_body_limit_counts_line_breaks_once(client):
    """5,000 characters typed with Windows line breaks are within the limit."""
    article = make_article()
    body = ("a" * 99 + "\r\n") * 50  # 5,000 characters once \r\n is one line break
    assert post(client, article, body=body).status_code == 303
    assert len(Comment.objects.get().body) == 4999  # the final line break is trimmed


def test_website_without_scheme_becomes_https(client):
    """ "example.com" typed as a website is stored as https://example.com."""
    article = make_article()
    post(client, article, website="example.com")
    assert Comment.objects.get().website == "https://example.com"


# --- Spam defences -------------------------------------------------------------------------


def test_honeypot_filled_is_refused(client):
    """A bot that fills the hidden field gets a 400 with an explanation; nothing is saved."""
    article = make_article()
    response = post(client, article, url="http://spam.example")
    assert response.status_code == 400
    assert "Leave this field empty" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("token_kind", "message"),
    [
        ("fast", "faster than anyone can type"),
        ("tampered", "missing part of what it needs"),
        ("expired", "expired"),
        ("other-story", "belongs to another story"),
    ],
)
def test_form_timestamp_is_checked(client, token_kind, message):
    """Forms sent too fast, too late, tampered with or from another story are refused."""
    from comments.forms import issue_token

    article = make_article()
    tokens = {
        "fast": issue_token(article.pk),
        "missing": "",
        "tampered": issue_token(article.pk, issued_at=0).replace(":", ":x", 1),
        "expired": issue_token(article.pk, issued_at=timezone.now().timestamp() - 3 * 86400),
        "other-story": issue_token(article.pk + 1000, issued_at=timezone.now().timestamp() - 60),
    }
    response = post(client, article, token=tokens[token_kind])
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Comment.objects.exists()


def test_reshown_form_carries_a_fresh_timestamp(client):
    """After an expired form is refused, the re-shown form has a new token to send again."""
    from comments.forms import issue_token

    article = make_article()
    sent = issue_token(article.pk, issued_at=timezone.now().timestamp() - 3 * 86400)
    response = post(client, article, token=sent)
    assert response.status_code == 400
    assert 'name="token"' in response.content.decode()
    assert sent not in response.content.decode()


def test_second_comment_within_seconds_is_429_with_the_comment_kept(client):
    """The same client posting again at once gets 429 with Retry-After: the story with the
    form still holding the typed comment, and how long to wait."""
    article = make_article()
    url = reverse("comments:post", kwargs={"slug": article.slug})
    first = client.post(url, comment_form_data(article, body="First comment"))
    second = client.post(url, comment_form_data(article, body="Second <comment> kept"))
    assert first.status_code == 303
    assert second.status_code == 429
    wait = int(second["Retry-After"])
    assert 1 <= wait <= 15
    html = second.content.decode()
    assert "You are commenting faster than we allow" in html
    assert f"wait {wait} second" in html
    assert "Second &lt;comment&gt; kept</textarea>" in html
    assert 'value="Ada Reader"' in html
    assert "no-store" in second["Cache-Control"]
    assert Comment.objects.count() == 1


def test_hourly_limit_is_429(client, settings):
    """Past the hourly limit a client is refused even when spacing its comments out."""
    settings.COMMENTS = {**settings.COMMENTS, "RATE_LIMITS": [(2, 3600)]}
    article = make_article()
    url = reverse("comments:post", kwargs={"slug": article.slug})
    statuses = [
        client.post(url, comment_form_data(article, body=f"Comment {i}")).status_code
        for i in range(3)
    ]
    assert statuses == [303, 303, 429]


def test_rate_limit_is_per_client(client):
    """Another reader is not slowed down by the first one."""
    article = make_article()
    url = reverse("comments:post", kwargs={"slug": article.slug})
    one = client.post(url, comment_form_data(article, body="One"), REMOTE_ADDR="198.51.100.1")
    two = client.post(url, comment_form_data(article, body="Two"), REMOTE_ADDR="198.51.100.2")
    assert (one.status_code, two.status_code) == (303, 303)


def test_duplicate_comment_is_refused_politely(client):
    """Sending the same text twice says so by the comment field, with a 400."""
    article = make_article()
    url = reverse("comments:post", kwargs={"slug": article.slug})
    first = client.post(url, comment_form_data(article, body="Same words"), REMOTE_ADDR="192.0.2.7")
    assert first.status_code == 303
    again = client.post(
        url, comment_form_data(article, body="  Same words  "), REMOTE_ADDR="192.0.2.7"
    )
    assert again.status_code == 400
    assert "You have already posted this comment on this story." in again.content.decode()
    assert Comment.objects.count() == 1


def test_duplicate_check_does_not_reveal_who_wrote_a_comment(client):
    """A stranger copying a public comment with a guessed email learns nothing about the email."""
    article = make_article()
    make_comment(article=article, email="marieke@example.com", name="Marieke", body="What a race!")
    guesses = [
        post(client, article, email=email, name="Someone", body="What a race!")
        for email in ("marieke@example.com", "nobody@example.com")
    ]
    assert [r.status_code for r in guesses] == [303, 303]
    assert "already posted" not in guesses[0].content.decode()


# --- Closed stories ------------------------------------------------------------------------


def test_closed_story_shows_no_form_and_refuses_posts(client):
    """With comments closed the form is gone and a post gets a 403 with a clear message."""
    article = make_article(comments_closed=True)
    html = section(client.get(article.get_absolute_url()))
    assert "Comments are closed on this story." in html
    assert 'id="comment-form"' not in html
    response = post(client, article)
    assert response.status_code == 403
    assert "Comments on this story are closed" in response.content.decode()
    assert not Comment.objects.exists()


def test_old_story_closes_by_itself(client, settings):
    """A story older than the configured number of days takes no more comments."""
    settings.COMMENTS = {**settings.COMMENTS, "CLOSE_AFTER_DAYS": 30}
    old = make_article(published_at=timezone.now() - timedelta(days=31))
    recent = make_article(published_at=timezone.now() - timedelta(days=29))
    assert post(client, old).status_code == 403
    assert post(client, recent).status_code == 303
    assert 'id="comment-form"' not in section(client.get(old.get_absolute_url()))


# --- Replies -------------------------------------------------------------------------------


def test_reply_is_nested_under_its_parent(client):
    """An approved reply shows inside its parent's thread, after it."""
    parent = make_comment(body="Parent comment")
    reply = make_comment(article=parent.article, parent=parent, body="Child reply")
    html = section(client.get(parent.article.get_absolute_url()))
    parent_at = html.index(f'id="c{parent.pk}"')
    children_at = html.index('class="comment-children"', parent_at)
    assert parent_at < children_at < html.index(f'id="c{reply.pk}"')
    assert "2 comments" in html


def test_posting_a_reply_sets_the_parent(client):
    """The form's parent field makes the new comment a reply."""
    parent = make_comment()
    assert post(client, parent.article, parent=str(parent.pk)).status_code == 303
    assert Comment.objects.get(parent=parent).body == "A thoughtful comment about the race."


@pytest.mark.parametrize("case", ["other-story", "pending", "missing", "junk"])
def test_reply_to_an_unavailable_comment_is_refused(client, case):
    """A reply must answer an approved comment of the same story; otherwise a clear 400."""
    article = make_article()
    parents = {
        "other-story": lambda: str(make_comment().pk),
        "pending": lambda: str(make_comment(article=article, status="pending").pk),
        "missing": lambda: "999999",
        "junk": lambda: "abc",
    }
    parent = parents[case]()
    response = post(client, article, parent=parent)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The comment you are replying to is no longer available." in html
    assert 'name="parent" id="id_parent"' in html  # cleared, so sending again posts it
    assert not Comment.objects.filter(article=article, status="pending", name="Ada Reader")


def test_replies_stop_nesting_at_the_depth_limit(client, settings):
    """A reply to a comment at the deepest level joins that comment's thread level."""
    settings.COMMENTS = {**settings.COMMENTS, "MAX_DEPTH": 2}
    top = make_comment()
    second = make_comment(article=top.article, parent=top)
    html = section(client.get(top.article.get_absolute_url()))
    assert f"replyto={top.pk}" in html
    assert f"replyto={second.pk}" not in html
    post(client, top.article, parent=str(second.pk), body="Deep reply")
    assert Comment.objects.get(body="Deep reply").parent == top


def test_reply_link_works_without_javascript(client):
    """?replyto=ID opens the form as a reply to that comment, with a way to cancel."""
    parent = make_comment(name="Kenji")
    url = parent.article.get_absolute_url()
    html = section(client.get(f"{url}?replyto={parent.pk}"))
    assert 'Reply to <span class="reply-name" dir="auto">Kenji</span>' in html
    assert f'name="parent" value="{parent.pk}"' in html
    assert f'href="{url}#respond">Cancel reply' in html
    for junk in ("abc", "-1", "999999"):
        assert "Leave a comment" in section(client.get(f"{url}?replyto={junk}"))


@pytest.mark.parametrize(
    "junk", ["99999999999999999999", "-5", "1.5", "1e3", "", "０", "1; DROP TABLE x", "\x00"]
)
def test_junk_in_reply_and_page_parameters_is_harmless(client, junk):
    """Absurd replyto, cpage and parent values never cause an error page."""
    article = make_article()
    make_comment(article=article)
    url = article.get_absolute_url()
    assert client.get(url, {"replyto": junk}).status_code == 200
    assert client.get(url, {"cpage": junk}).status_code == 200
    response = post(client, article, parent=junk)
    assert response.status_code in (303, 400)
    if response.status_code == 400:
        assert "no longer available" in response.content.decode()


# --- Reading the discussion ----------------------------------------------------------------


def test_approved_comments_show_oldest_first_with_count(client):
    """Approved comments appear oldest first under a heading with their number."""
    article = make_article()
    make_comment(article=article, body="First said")
    make_comment(article=article, body="Second said")
    make_comment(article=article, body="Hidden", status="rejected")
    make_comment(article=article, body="Spammy", status="spam")
    html = section(client.get(article.get_absolute_url()))
    assert "2 comments" in html
    assert html.index("First said") < html.index("Second said")
    assert "Hidden" not in html and "Spammy" not in html


def test_comment_has_permalink_avatar_and_website(client):
    """Each comment has an anchor, an initials avatar and a nofollow link to the website."""
    comment = make_comment(name="Marieke de Vries", website="https://marieke.example")
    html = section(client.get(comment.article.get_absolute_url()))
    assert f'id="c{comment.pk}"' in html
    assert f'href="#c{comment.pk}"' in html
    assert '<span class="avatar avatar-' in html and ">MV</span>" in html
    assert (
        '<a href="https://marieke.example" rel="nofollow ugc noopener">Marieke de Vries</a>' in html
    )
    assert "gravatar" not in html.lower()


def test_body_keeps_line_breaks_and_links_urls_safely(client):
    """Line breaks survive; web addresses become nofollow links; typed emails stay text."""
    comment = make_comment(
        body="Line one\nLine two\n\nSee www.example.com or https://e.example/a?b=1&c=2.\nme@x.org"
    )
    html = section(client.get(comment.article.get_absolute_url()))
    assert "<p>Line one<br>Line two</p>" in html
    assert (
        '<a href="https://www.example.com" rel="nofollow ugc noopener">www.example.com</a>' in html
    )
    assert 'href="https://e.example/a?b=1&amp;c=2" rel="nofollow ugc noopener"' in html
    assert "mailto:" not in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        '<a href="javascript:alert(1)">click</a>',
        "javascript:alert(1)",
        'https://e.example/"onmouseover="alert(1)',
    ],
)
def test_xss_in_name_and_body_is_shown_as_text(client, payload):
    """Markup typed in a name or a body is displayed literally, never run."""
    article = make_article()
    comment = make_comment(article=article, email="known@example.com")
    response = post(
        client, article, name=payload[:80], body=f"Look: {payload}", email=comment.email
    )
    assert response.status_code == 303
    stored = Comment.objects.get(name=payload[:80])
    assert stored.body == f"Look: {payload}"  # stored as typed
    html = section(client.get(article.get_absolute_url()))
    assert_no_active_markup(html)
    assert escape(payload) in html or payload.startswith("https://")


@given(st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)))
def test_comment_dates_read_exactly_as_every_other_date(moment):
    """A comment's <time> is the one every template writes (newsroom.dates), DST included:
    `+01:00`-style offset, whole seconds, the named date-and-time format."""
    comment = Comment(pk=1, name="Ann", body="Hi", created_at=moment)
    html = str(rendering.comment_meta(comment))
    machine = dates.machine_time(moment)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", machine)
    assert datetime.fromisoformat(machine) == moment.replace(microsecond=0)
    shown = dateformat.format(timezone.localtime(moment), "j F Y, H:i")
    assert f'<time datetime="{machine}">{shown}</time>' in html


LINKISH_PIECES = [
    "see",
    "https://example.com/x?a=1&b=<2>",
    "www.example.org",
    "(http://a.com).",
    "x.com",
    "mail@example.com",
    "<b>",
    '"quoted"',
    "'",
    "\n",
    " ",
    "\t",
    "é",
    "1.5",
    "a.b",
    ":",
    "javascript:x",
]


@given(st.lists(st.sampled_from(LINKISH_PIECES), max_size=30).map("".join) | st.text())
def test_comment_links_are_exactly_what_django_urlize_makes(text):
    """Urlizing only the pieces that may hold a link gives the same HTML as urlizing it all."""
    assert rendering._linked(text) == rendering.urlize(text, autoescape=True)


@given(
    st.lists(
        st.one_of(
            st.text(), st.integers(), st.text().map(mark_safe), st.sampled_from(LINKISH_PIECES)
        ),
        min_size=1,
        max_size=6,
    )
)
def test_comment_markup_is_escaped_exactly_as_django_format_html_does(values):
    """The comment list's own format_html gives Django's string, value for value."""
    template = " | ".join("<i>{}</i>" for _ in values) + " {{}}"
    ours = rendering.format_html(template, *values)
    assert ours == django_format_html(template, *values)
    assert isinstance(ours, SafeString)
    joined = rendering.format_html_join("\n", "<b>{}</b>", ((v,) for v in values))
    assert joined == django_format_html_join("\n", "<b>{}</b>", ((v,) for v in values))


def test_xss_in_website_cannot_reach_a_link(client):
    """A website that is not http(s) is refused at the form and never linked if stored."""
    article = make_article()
    assert post(client, article, website='javascript:alert("x")').status_code == 400
    make_comment(article=article, name="Sneaky", website="javascript:alert(1)")
    make_comment(article=article, name="Quote", website='https://e.example/"><script>x</script>')
    html = section(client.get(article.get_absolute_url()))
    assert_no_active_markup(html)
    assert "javascript:" not in html
    assert 'href="https://e.example/&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in html


def test_staff_reply_has_a_badge(client):
    """A reply written by staff is marked as such."""
    parent = make_comment()
    make_comment(article=parent.article, parent=parent, is_staff_reply=True, name="Desk")
    html = section(client.get(parent.article.get_absolute_url()))
    assert '<span class="comment-badge">Staff</span>' in html


def test_long_discussions_are_paged_by_thread(client, settings):
    """Threads beyond one page move to ?cpage=2, linked from page 1; junk pages are page 1."""
    settings.COMMENTS = {**settings.COMMENTS, "THREADS_PER_PAGE": 2}
    article = make_article()
    first, second, third = (make_comment(article=article, body=f"Thread {i}") for i in range(3))
    make_comment(article=article, parent=first, body="Reply stays with its thread")
    url = article.get_absolute_url()
    page1 = section(client.get(url))
    assert "Thread 0" in page1 and "Thread 1" in page1 and "Thread 2" not in page1
    assert "Reply stays with its thread" in page1
    assert f'href="{url}?cpage=2#comments"' in page1
    assert "4 comments" in page1
    page2 = section(client.get(f"{url}?cpage=2"))
    assert "Thread 2" in page2 and "Thread 0" not in page2
    assert client.get(third.get_absolute_url())["Location"] == f"{url}?cpage=2#c{third.pk}"
    assert client.get(second.get_absolute_url())["Location"] == f"{url}#c{second.pk}"
    for junk in ("abc", "0", "99"):
        assert client.get(f"{url}?cpage={junk}").status_code == 200


def test_query_count_does_not_grow_with_comments(client):
    """The article page runs the same number of queries for 2 or 40 comments."""

    def queries_for(article):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(article.get_absolute_url()).status_code == 200
        return len(captured)

    small, large = make_article(), make_article()
    for article, threads in ((small, 1), (large, 20)):
        for i in range(threads):
            top = make_comment(article=article, website="https://w.example")
            make_comment(article=article, parent=top, is_staff_reply=bool(i % 2))
    queries_for(small)  # warm the navigation cache
    assert queries_for(small) == queries_for(large)


def test_remember_me_fills_the_form_next_time(client):
    """With "Save my name…" ticked, the next form is filled in; the page is then private."""
    article = make_article()
    post(client, article, remember="on", website="https://ada.example")
    response = client.get(make_article().get_absolute_url())
    html = section(response)
    assert 'value="Ada Reader"' in html
    assert 'value="ada@example.com"' in html
    assert 'value="https://ada.example"' in html
    assert 'name="remember" class="checkboxinput form-check-input" id="id_remember" checked' in html
    assert "no-store" in response["Cache-Control"]


def test_remember_me_is_opt_in_and_can_be_withdrawn(client):
    """Without the tick nothing is remembered; unticking later forgets the saved details."""
    article = make_article()
    post(client, article, body="No remembering")
    assert 'value="Ada Reader"' not in section(client.get(article.get_absolute_url()))
    post(client, article, remember="on", body="Remember me")
    assert 'value="Ada Reader"' in section(client.get(article.get_absolute_url()))
    response = post(client, article, body="Forget me now")
    assert response.cookies["comment_author"]["max-age"] == 0
    assert 'value="Ada Reader"' not in section(client.get(article.get_absolute_url()))


# --- In a real browser ---------------------------------------------------------------------


@pytest.fixture
def browser(monkeypatch):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no Chromium on this machine")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright runs an event loop in this thread; the test's own queries are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()
        # Queries made while Playwright runs its loop use their own connection: close it too.
        connections.close_all()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_reply_in_a_phone_browser(browser, live_server, settings):
    """At 320 px, "Reply" moves the form under the comment and the reply is posted, with no
    console error or CSP violation and nothing wider than the screen."""
    settings.COMMENTS = {**settings.COMMENTS, "MIN_SECONDS_TO_TYPE": 0}
    parent = make_comment(name="Jan de Boer", body="A long word: " + "longword" * 20)
    page = browser.new_page(viewport={"width": 320, "height": 800})
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(live_server.url + parent.article.get_absolute_url())
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.click(f"#c{parent.pk} .comment-reply")
    assert page.url.endswith(parent.article.get_absolute_url())  # no navigation: moved in place
    assert page.input_value("#id_parent") == str(parent.pk)
    assert page.text_content("#respond-heading") == "Reply to Jan de Boer"
    assert page.evaluate("document.activeElement.id") == "id_body"
    assert page.locator(f"#c{parent.pk} #respond").count() == 1
    page.click("#respond .cancel-reply a")
    assert page.input_value("#id_parent") == ""
    assert page.text_content("#respond-heading") == "Leave a comment"
    assert page.locator(f"#c{parent.pk} #respond").count() == 0
    page.click(f"#c{parent.pk} .comment-reply")
    page.fill("#id_body", "My reply from a phone")
    page.fill("#id_name", "Pat")
    page.fill("#id_email", "pat@example.com")
    page.click("#comment-form button[type=submit]")
    reply = Comment.objects.get(body="My reply from a phone")
    assert reply.parent == parent
    assert page.url.endswith(f"#c{reply.pk}")
    assert "Your comment is awaiting moderation" in page.text_content(f"#c{reply.pk}")
    assert console == []


def tolerant_redis_cache(port):
    return {
        "default": {
            "BACKEND": "newsroom.cache.TolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
        }
    }


def test_the_rate_limit_holds_while_redis_is_unreachable(client, settings):
    """With the shared cache gone (nothing listens where REDIS_URL points), a client is still
    held to the limit: the second comment within 15 s is a 429, the form kept."""
    from .servers import free_port

    settings.CACHES = tolerant_redis_cache(free_port())
    article = make_article()
    url = reverse("comments:post", kwargs={"slug": article.slug})
    first = client.post(url, comment_form_data(article, body="First while Redis is gone"))
    second = client.post(url, comment_form_data(article, body="Second while Redis is gone"))
    assert (first.status_code, second.status_code) == (303, 429)
    assert "Second while Redis is gone" in second.content.decode()
    assert Comment.objects.count() == 1


def test_the_rate_limit_holds_when_redis_comes_back_empty(client, settings, monkeypatch):
    """A comment counted before Redis went away still counts while it is away, and once it comes
    back empty (restarted): no post slips through at either moment."""
    from .servers import throwaway_redis

    monkeypatch.setattr("newsroom.cache.RETRY_AFTER_SECONDS", 0.0)
    article = make_article()
    url = reverse("comments:post", kwargs={"slug": article.slug})
    with throwaway_redis() as redis_server:
        settings.CACHES = tolerant_redis_cache(redis_server.port)
        assert client.post(url, comment_form_data(article, body="Before")).status_code == 303
    # Redis is gone, then a new, empty one answers on the same port.
    assert client.post(url, comment_form_data(article, body="While gone")).status_code == 429
    with throwaway_redis(redis_server.port):
        assert client.post(url, comment_form_data(article, body="Back")).status_code == 429
    assert list(Comment.objects.values_list("body", flat=True)) == ["Before"]


@pytest.mark.django_db(transaction=True)
def test_posts_from_one_client_at_the_same_moment_are_counted_one_after_the_other(settings):
    """Eight posts from one client at once against a limit of three: exactly three are taken,
    the rest are 429, none is lost to an error (whatever the cache does)."""
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's test database is in memory, shared by threads without locking")
    settings.COMMENTS = {**settings.COMMENTS, "RATE_LIMITS": [(3, 60)]}
    article = make_article()
    url = reverse("comments:post", kwargs={"slug": article.slug})
    statuses = []
    start = threading.Barrier(8)

    def send(n):
        data = comment_form_data(article, body=f"At once {n}")
        start.wait()
        statuses.append(Client().post(url, data).status_code)
        connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303] * 3 + [429] * 5
    assert Comment.objects.count() == 3


def test_the_duplicate_check_reads_only_one_clients_recent_comments(client):
    """Run on every post: it uses the small index of comments that still carry a client hash,
    not every comment on a busy story."""
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL query plans")
    article = make_article()
    comment = make_comment(article=article)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    duplicate_check = Comment.objects.filter(
        article_id=article.pk, body=comment.body, client_hash="a" * 64
    )
    assert "comment_client_idx" in duplicate_check.explain()


def test_comment_counts_in_one_query_match_the_thread_rules():
    """The heading's count and the number of thread starts, read together, agree with the
    querysets that define them (replies to a rejected comment start their own thread)."""
    article = make_article()
    top = make_comment(article=article)
    make_comment(article=article, parent=top)
    rejected = make_comment(article=article, status=Comment.Status.REJECTED)
    make_comment(article=article, parent=rejected)
    make_comment(article=article, status=Comment.Status.PENDING)
    on_article = Comment.objects.filter(article=article)
    assert (
        on_article.public_counts()
        == {
            "public": on_article.public().count(),
            "thread_starts": on_article.thread_starts().count(),
        }
        == {"public": 3, "thread_starts": 2}
    )
