"""A moderator approves or marks spam a waiting comment from the notification email: a signed
link opens a confirmation page, one POST acts, and a used, expired or forged link says so."""

import re
import time
from unittest import mock

import pytest
from django.core import mail, signing
from django.test import Client

from comments import email_links, services
from comments.models import Comment

from .factories import comment_form_data, make_article, make_comment, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def emailed(settings, django_capture_on_commit_callbacks):
    """A reader posts a comment that waits; the moderators' email, its links by action."""
    settings.MODERATOR_EMAILS = ["desk@newsroom.example"]
    settings.SITE_URL = "https://news.example"
    article = make_article(title="Leerdam wins")
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            f"/stories/{article.slug}/comment/",
            comment_form_data(article, email="secret.reader@example.com", body="Held words"),
            REMOTE_ADDR="203.0.113.9",
        )
    (message,) = mail.outbox
    links = dict(
        re.findall(r"(Approve it|Mark it as spam): https://news\.example(\S+)", message.body)
    )
    return (
        Comment.objects.get(),
        message,
        {"approve": links["Approve it"], "spam": links["Mark it as spam"]},
    )


def test_the_email_carries_an_approve_and_a_spam_link_and_no_address(emailed):
    """Two links, one per action, and the commenter's address nowhere in the email."""
    comment, message, links = emailed
    assert set(links) == {"approve", "spam"}
    assert links["approve"].startswith("/comments/moderate/approve/")
    assert links["spam"].startswith("/comments/moderate/spam/")
    assert "secret.reader" not in message.message().as_string()


def test_a_get_shows_a_confirmation_and_changes_nothing(emailed):
    """Opening the link (as a mail scanner would, many times) only asks; the page is never
    kept by a cache, never indexed, sends no Referer, and shows no address."""
    comment, _, links = emailed
    for _ in range(3):
        response = Client().get(links["approve"])
        assert response.status_code == 200
    html = response.content.decode()
    assert "Approve this comment?" in html and "Held words" in html and "Leerdam wins" in html
    assert '<form method="post">' in html
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "secret.reader" not in html
    comment.refresh_from_db()
    assert comment.status == "pending"


def test_one_post_approves_without_signing_in_and_the_link_is_then_used(emailed):
    """The POST approves (no session needed: the signature is the proof) and records how;
    the same link again, or the spam link, says it was used and changes nothing (409)."""
    comment, _, links = emailed
    browser = Client()
    response = browser.post(links["approve"])
    assert response.status_code == 200
    assert "The comment was approved: it is now public." in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == "approved"
    assert comment.status_reason == "approved from the moderators' email"
    assert comment.moderated_at is not None and comment.moderated_by is None
    for again in (
        browser.get(links["approve"]),
        browser.post(links["approve"]),
        browser.post(links["spam"]),
    ):
        assert again.status_code == 409
        assert "This link was already used" in again.content.decode()
        assert "it is now approved" in again.content.decode()
    comment.refresh_from_db()
    assert comment.status == "approved"


def test_the_spam_link_marks_spam(emailed):
    comment, _, links = emailed
    assert Client().post(links["spam"]).status_code == 200
    comment.refresh_from_db()
    assert comment.status == "spam"


def test_a_comment_decided_in_the_admin_since_refuses_the_link(emailed):
    """A moderator rejected it in the admin: the email's approve link is refused (409)."""
    comment, _, links = emailed
    services.reject(Comment.objects.filter(pk=comment.pk), by=make_user())
    response = Client().post(links["approve"])
    assert response.status_code == 409
    assert "it is now rejected" in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == "rejected"


def test_an_expired_link_says_so(emailed, settings):
    """After EMAIL_LINK_DAYS the link is refused with 410 and how long links last."""
    comment, _, links = emailed
    later = time.time() + 8 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = Client().post(links["approve"])
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert "7 days" in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == "pending"


@pytest.mark.parametrize(
    "forge",
    [
        lambda url: url[:-6] + "AAAAA/",  # a changed signature
        lambda url: url.replace("/approve/", "/spam/"),  # one action's token for another
        lambda url: url.rsplit("/", 2)[0] + "/junk/",  # not a token at all
    ],
)
def test_a_forged_link_is_refused(emailed, forge):
    """A changed or misused token: 400, and nothing changes."""
    comment, _, links = emailed
    response = Client().post(forge(links["approve"]))
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == "pending"


def test_a_token_signed_for_another_action_in_the_payload_is_refused(emailed):
    """Even signed with the approve salt, a payload naming another action is refused."""
    comment, _, _ = emailed
    token = signing.dumps(
        {"c": comment.pk, "a": "spam", "s": comment.moderation_stamp},
        salt=email_links.salt("approve"),
    )
    assert Client().post(f"/comments/moderate/approve/{token}/").status_code == 400


def test_unknown_actions_and_deleted_comments_are_404(emailed):
    comment, _, links = emailed
    assert Client().get(links["approve"].replace("/approve/", "/delete/")).status_code == 404
    comment.delete()
    response = Client().get(links["approve"])
    assert response.status_code == 404 and "This comment is gone" in response.content.decode()


def test_a_cross_site_post_is_refused(emailed):
    """The site's CSRF rule: a POST from another site (Fetch Metadata) is refused."""
    comment, _, links = emailed
    response = Client().post(links["approve"], HTTP_SEC_FETCH_SITE="cross-site")
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.status == "pending"


def test_a_signed_in_browser_needs_the_pages_token(emailed):
    """With a session (a signed-in moderator) Django's token CSRF applies as everywhere."""
    comment, _, links = emailed
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_user(groups=["Moderators"]))
    assert browser.post(links["approve"]).status_code == 403
    page = browser.get(links["approve"]).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert browser.post(links["approve"], {"csrfmiddlewaretoken": token}).status_code == 200
    comment.refresh_from_db()
    assert comment.status == "approved"


def test_a_link_made_for_one_comment_names_only_that_comment(db):
    """Tokens differ per comment and action."""
    one, two = make_comment(status="pending"), make_comment(status="pending")
    tokens = {email_links.make_token(c, a) for c in (one, two) for a in ("approve", "spam")}
    assert len(tokens) == 4
