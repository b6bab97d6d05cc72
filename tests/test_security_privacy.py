"""Someone hunts for a commenter's data: in every public response, behind a shared cache, in the
logs. The email address never shows, and one reader's page never reaches another."""

import hashlib
import logging
import re
from contextlib import contextmanager
from io import StringIO

import pytest
from django.urls import reverse

from comments.models import Comment

from .factories import comment_form_data, make_article, make_comment, make_user

pytestmark = pytest.mark.django_db

EMAIL = "Secret.Reader+news@Example.org"


def email_traces(email):
    """The address and every way a page could leak it: case, URL-encoding, Gravatar-style hashes."""
    normal = email.strip().lower()
    traces = {email, normal, normal.replace("@", "%40"), normal.replace("@", "&#64;")}
    for value in {email, normal}:
        traces |= {
            hashlib.md5(value.encode()).hexdigest(),  # noqa: S324 (what Gravatar uses)
            hashlib.sha256(value.encode()).hexdigest(),
        }
    return traces


def shared_cacheable(response):
    """Whether a shared cache (CDN, proxy) may keep this response and give it to others."""
    cache_control = response.get("Cache-Control", "").lower()
    return not ("private" in cache_control or "no-store" in cache_control)


@pytest.fixture
def commented_story():
    article = make_article(title="Gold on the oval")
    approved = make_comment(article=article, email=EMAIL, name="Sam Reader", body="Great race!")
    make_comment(article=article, email=EMAIL, status=Comment.Status.PENDING, body="Held back")
    make_comment(article=article, parent=approved, is_staff_reply=True, name="Editor")
    return article


def public_urls(article):
    return [
        "/",
        article.get_absolute_url(),
        f"{article.get_absolute_url()}?replyto=1",
        article.section.get_absolute_url(),
        "/feed/",
        "/feed/atom/",
        "/sitemap.xml",
        f"/search/?q={EMAIL}",
        "/search/?q=Sam+Reader",
        "/search/?q=Great+race",
        "/results/",
        "/archive/",
        "/robots.txt",
        f"/no/such/page/{EMAIL}/",
        reverse("comments:post", args=[article.slug]),
        reverse("comments:feed", args=[article.slug]),
        reverse("comments:feed-atom", args=[article.slug]),
        f"{article.get_absolute_url()}?corder=newest",
        *(comment.get_absolute_url() for comment in article.comments.all()),
        *(
            reverse("comments:edit", args=[pk])
            for pk in article.comments.values_list("pk", flat=True)
        ),
    ]


def test_commenter_email_appears_in_no_public_response(client, commented_story):
    """Pages, feeds, sitemaps, search (even for the address itself) and error pages carry no
    trace of the address: not as text, not encoded, not hashed for an avatar."""
    traces = email_traces(EMAIL)
    for url in public_urls(commented_story):
        response = client.get(url)
        assert response.status_code < 500, url
        body = response.content.decode()
        headers = str(response.headers) + str(response.cookies)
        for trace in traces:
            assert trace not in body and trace not in headers, (url, trace)
    assert "Sam Reader" in client.get(commented_story.get_absolute_url()).content.decode()


def test_a_response_that_sets_a_cookie_is_never_shared_cacheable(client, commented_story):
    """Any response setting a cookie (CSRF, pending comment, remember-me) or carrying a CSRF
    token is private, so no proxy can hand one visitor's token or cookie to the next."""
    article = commented_story
    responses = [client.get(url) for url in public_urls(article)]
    responses.append(client.get("/admin/login/"))
    responses.append(
        client.post(
            reverse("comments:post", args=[article.slug]),
            comment_form_data(article, remember="on"),
        )
    )
    responses.append(client.get(article.get_absolute_url()))  # now with the reader's cookies
    for response in responses:
        url = response.wsgi_request.get_full_path()
        if response.cookies or "csrfmiddlewaretoken" in response.content.decode():
            assert not shared_cacheable(response), url
            assert "Cookie" in response.get("Vary", ""), url


def test_one_readers_comment_and_details_never_reach_another(client, django_user_model):
    """Reader A posts and asks to be remembered; reader B, right after, sees none of it, and
    A's own pages are marked for A's browser only."""
    article = make_article()
    form = comment_form_data(
        article, name="Alice Private", email="alice@example.net", remember="on"
    )
    form["body"] = "Alice's pending words"
    posted = client.post(reverse("comments:post", args=[article.slug]), form)
    assert posted.status_code == 303
    mine = client.get(article.get_absolute_url())
    assert "Alice's pending words" in mine.content.decode()
    assert not shared_cacheable(mine)

    client.cookies.clear()
    theirs = client.get(article.get_absolute_url()).content.decode()
    for private in ["Alice Private", "alice@example.net", "Alice&#x27;s pending words"]:
        assert private not in theirs


@contextmanager
def site_log():
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    buffer = StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def test_posting_and_moderating_log_no_email_or_address(
    client, settings, django_capture_on_commit_callbacks
):
    """Everything logged while readers post (accepted, refused, rate-limited), moderators act
    and the moderator email fails holds no email address and no client IP."""
    settings.MODERATOR_EMAILS = ["mods@example.com"]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 1},
        }
    }
    article = make_article()
    url = reverse("comments:post", args=[article.slug])
    with site_log() as log, django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            client.post(
                url,
                comment_form_data(article, email=f"poster{n}@example.net", body=f"Words {n}"),
                REMOTE_ADDR="203.0.113.99",
            )
        client.post(
            url, comment_form_data(article, email="not-an-email"), REMOTE_ADDR="203.0.113.99"
        )
        client.force_login(make_user(groups=["Moderators"]))
        client.post(
            reverse("admin:comments_comment_changelist"),
            {
                "action": "approve",
                "_selected_action": list(Comment.objects.values_list("pk", flat=True)),
            },
        )
    text = log.getvalue()
    assert "Could not email the moderators" in text  # the failure is logged...
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text), text  # ...with no address in it
    assert "203.0.113.99" not in text
