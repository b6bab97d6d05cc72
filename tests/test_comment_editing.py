"""A commenter edits their own comment: from the browser that posted it, for a while after, until
someone replies (comments/editing.py)."""

import itertools
import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comments import cookies, email_links
from comments.models import Comment

from .factories import comment_form_data, make_article, make_comment, make_user

pytestmark = pytest.mark.django_db

_addresses = itertools.count(1)
VNU_JAR = Path(sys.prefix) / "vnu/node_modules/vnu-jar/build/dist/vnu.jar"


@pytest.fixture(autouse=True)
def _moderators(settings):
    settings.MODERATOR_EMAILS = ["desk@newsroom.example"]


def post(client, article, **fields):
    address = f"192.0.2.{next(_addresses) % 250 + 1}"
    return client.post(
        reverse("comments:post", kwargs={"slug": article.slug}),
        comment_form_data(article, **fields),
        REMOTE_ADDR=address,
    )


def posted(client, article=None, *, approve=True, **fields):
    """A comment posted from `client` (which keeps the signed cookie), approved by default."""
    article = article or make_article()
    assert post(client, article, **fields).status_code == 303
    comment = Comment.objects.filter(article=article).latest("pk")
    if approve:
        Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.APPROVED)
        comment.refresh_from_db()
    mail.outbox.clear()
    return comment


def edit_url(comment):
    return reverse("comments:edit", args=[comment.pk])


def story(client, comment):
    return client.get(comment.article.get_absolute_url()).content.decode()


def test_the_author_edits_their_comment(client, committed):
    """The form holds the text; saving goes to the comment, whose page shows the new text,
    rendered again, marked "edited", and the story's cached page is renewed for everyone."""
    comment = posted(client, body="Leerdam was fast")
    reader = Client()
    assert "Leerdam was fast" in story(reader, comment)  # the shared page is now cached
    page = client.get(edit_url(comment))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Leerdam was fast</textarea>" in html
    assert "no-store" in page["Cache-Control"]
    with committed():
        response = client.post(
            edit_url(comment), {"body": "Leerdam was very fast\n\nsee www.a.example"}
        )
    assert response.status_code == 303
    assert response["Location"].endswith(f"#c{comment.pk}")
    comment.refresh_from_db()
    assert comment.body == "Leerdam was very fast\n\nsee www.a.example"
    assert comment.status == "approved"
    assert comment.edited_at is not None
    assert "<p>Leerdam was very fast</p>" in comment.body_html
    assert 'href="https://www.a.example"' in comment.body_html
    # Its stored card (comments/rendering.py) is the edited one, marked edited.
    assert "Leerdam was very fast" in comment.card_html
    assert "Leerdam was fast<" not in comment.card_html
    assert 'class="comment-edited"' in comment.card_html
    public = story(reader, comment)
    assert "Leerdam was very fast" in public and "Leerdam was fast<" not in public
    assert 'class="comment-edited"' in public
    assert not mail.outbox


def test_an_edit_is_checked_by_the_moderation_rules_again(client, committed):
    """Two links hold a new comment: an approved one edited to hold them waits again, leaves
    the public page, shows as awaiting to its author, and the moderators are told."""
    comment = posted(client, body="Nice race")
    with committed():
        response = client.post(
            edit_url(comment), {"body": "Buy at http://a.example and http://b.example"}
        )
    assert response.status_code == 303
    comment.refresh_from_db()
    assert comment.status == "pending"
    assert comment.status_reason == "held: 2 links (after an edit)"
    assert "http://a.example" not in story(Client(), comment)
    mine = story(client, comment)
    assert "Your comment is awaiting moderation." in mine and "http://a.example" in mine
    assert len(mail.outbox) == 1


def test_a_blocklisted_edit_goes_to_spam(client, settings):
    settings.COMMENTS = {**settings.COMMENTS, "BLOCKLIST": ["casino bonus"]}
    comment = posted(client, body="Nice race")
    client.post(edit_url(comment), {"body": "Nice casino bonus"})
    comment.refresh_from_db()
    assert comment.status == "spam"


def test_a_waiting_comment_can_be_edited_and_shows_edited(client):
    comment = posted(client, approve=False, body="First thoughts")
    assert client.post(edit_url(comment), {"body": "Second thoughts"}).status_code == 303
    comment.refresh_from_db()
    assert (comment.status, comment.body) == ("pending", "Second thoughts")
    html = story(client, comment)
    assert "Second thoughts" in html and 'class="comment-edited"' in html


def test_only_the_authors_own_page_links_to_the_edit_form(client):
    comment = posted(client)
    mine = client.get(comment.article.get_absolute_url())
    assert edit_url(comment) in mine.content.decode()
    assert "no-store" in mine["Cache-Control"] or "private" in mine["Cache-Control"]
    public = Client().get(comment.article.get_absolute_url())
    assert "/edit/" not in public.content.decode()
    assert "Set-Cookie" not in public.headers


def test_typed_text_is_kept_on_a_form_error(client):
    comment = posted(client, body="Original text")
    response = client.post(edit_url(comment), {"body": "\u200b\u200b\u200b"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please write a comment with visible letters." in html
    assert "\u200b\u200b\u200b</textarea>" in html
    response = client.post(edit_url(comment), {"body": "x" * 5001})
    assert response.status_code == 400
    assert "too long" in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "Original text" and comment.edited_at is None


def test_after_the_window_editing_is_refused_with_the_text_kept(client, settings):
    settings.COMMENTS = {**settings.COMMENTS, "EDIT_MINUTES": 15}
    comment = posted(client, body="Original text")
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    assert client.get(edit_url(comment)).status_code == 403
    response = client.post(edit_url(comment), {"body": "Too late words"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "can be edited for 15 minutes after it is posted" in html
    assert "Too late words</textarea>" in html
    comment.refresh_from_db()
    assert comment.body == "Original text"
    assert edit_url(comment) not in story(client, comment)


def test_after_a_reply_editing_is_refused(client):
    comment = posted(client, body="Original text")
    make_comment(article=comment.article, parent=comment, status="pending")
    assert client.get(edit_url(comment)).status_code == 409
    response = client.post(edit_url(comment), {"body": "Changed words"})
    assert response.status_code == 409
    assert "Someone has replied to this comment" in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "Original text"
    assert edit_url(comment) not in story(client, comment)


def test_a_rejected_reply_does_not_end_the_editing(client):
    comment = posted(client)
    make_comment(article=comment.article, parent=comment, status="spam")
    assert client.get(edit_url(comment)).status_code == 200


def test_another_browser_cannot_edit(client):
    comment = posted(client, body="Original text")
    other = Client()
    assert other.get(edit_url(comment)).status_code == 403
    response = other.post(edit_url(comment), {"body": "Not mine"})
    assert response.status_code == 403
    assert "only be edited from the browser that posted it" in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "Original text"


def test_a_forged_cookie_or_post_is_refused(client):
    comment = posted(client, body="Original text")
    forger = Client()
    forger.cookies[cookies.cookie_name(cookies.PENDING)] = f"[{comment.pk}]"
    assert forger.post(edit_url(comment), {"body": "Forged"}).status_code == 403
    # The author's own browser, tricked by another site into sending the form.
    cross = client.post(
        edit_url(comment), {"body": "Forged"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    comment.refresh_from_db()
    assert comment.body == "Original text"


def test_someone_elses_id_in_ones_own_cookie_is_refused(client):
    """A browser's cookie names its own comments only: asking for another id is refused."""
    mine = posted(client)
    theirs = make_comment(article=mine.article, status="approved", body="Theirs")
    response = client.post(edit_url(theirs), {"body": "Mine now"})
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.body == "Theirs"


@pytest.mark.parametrize("status", ["rejected", "spam"])
def test_a_thrown_out_comment_cannot_be_edited(client, status):
    comment = posted(client)
    Comment.objects.filter(pk=comment.pk).update(status=status)
    assert client.post(edit_url(comment), {"body": "Back again"}).status_code == 404


def test_a_missing_comment_looks_like_anyone_elses_to_a_stranger(client):
    """A stranger cannot tell a missing comment from one they did not write (nor learn which
    story a hidden one is on); the author of a deleted one is told it is gone."""
    theirs = make_comment(status="pending", article=make_article(title="Secret draft title"))
    missing = reverse("comments:edit", args=[999999])
    assert client.get(missing).status_code == 403
    refused = client.post(edit_url(theirs), {"body": "x y"})
    assert refused.status_code == 403
    assert "Secret draft title" not in refused.content.decode()
    mine = posted(client)
    Comment.objects.filter(pk=mine.pk).delete()
    assert client.post(edit_url(mine), {"body": "x y"}).status_code == 404


def test_editing_can_be_turned_off(client, settings):
    settings.COMMENTS = {**settings.COMMENTS, "EDIT_MINUTES": 0}
    comment = posted(client)
    assert client.get(edit_url(comment)).status_code == 404
    assert edit_url(comment) not in story(client, comment)


def test_a_closed_story_ends_the_editing(client):
    comment = posted(client)
    type(comment.article).objects.filter(pk=comment.article_id).update(comments_closed=True)
    assert client.post(edit_url(comment), {"body": "Changed"}).status_code == 403


def test_the_edit_page_is_private_and_not_indexed(client):
    comment = posted(client)
    response = client.get(edit_url(comment))
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"
    assert "ada@example.com" not in response.content.decode()


@pytest.mark.skipif(
    shutil.which("java") is None or not VNU_JAR.exists(),
    reason="the Nu Html Checker needs Java and vnu.jar (`make test` installs it with npm)",
)
def test_the_edit_pages_are_valid_html5(client, tmp_path):
    """The author's page with its edit link, the edit form, the form with an error, a refusal
    and a comment marked edited: vnu finds no error."""
    comment = posted(client, body="Valid words")
    pages = {
        "story.html": client.get(comment.article.get_absolute_url()),
        "form.html": client.get(edit_url(comment)),
        "error.html": client.post(edit_url(comment), {"body": "\u200b\u200b"}),
        "refused.html": Client().post(edit_url(comment), {"body": "Not mine"}),
    }
    client.post(edit_url(comment), {"body": "Edited words"})
    pages["edited.html"] = Client().get(comment.article.get_absolute_url())
    for name, response in pages.items():
        (tmp_path / name).write_bytes(response.content)
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json",
         *(str(tmp_path / name) for name in pages)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    problems = [f"{Path(m['url']).name}: {m['message']}" for m in messages if m["type"] == "error"]
    assert not problems, "\n".join(problems)
    assert "Edited words" in pages["edited.html"].content.decode()


# --- Moderators never decide on a text they did not see --------------------------------------


def test_a_moderator_cannot_approve_a_text_edited_since_they_saw_it(client):
    """The admin page showed the old text; the author edits; Save with "approved" is refused
    and says the author edited it."""
    comment = posted(client, approve=False, body="First text")
    moderator = Client()
    moderator.force_login(make_user(groups=["Moderators"]))
    url = reverse("admin:comments_comment_change", args=[comment.pk])
    seen = comment.moderation_stamp
    assert client.post(edit_url(comment), {"body": "Sneaky second text"}).status_code == 303
    response = moderator.post(
        url,
        {"name": comment.name, "website": "", "body": "Sneaky second text",
         "status": "approved", "seen": seen, "reply": ""},
        follow=True,
    )  # fmt: skip
    assert "its author edited it" in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == "pending"


def test_an_email_link_sent_before_an_edit_does_not_act(client, committed):
    """The moderators get the new text with fresh links; the old email's links say why they
    no longer act."""
    comment = posted(client, approve=False, body="First text")
    link = email_links.link(comment, "approve")
    with committed():
        assert client.post(edit_url(comment), {"body": "Second text"}).status_code == 303
    assert len(mail.outbox) == 1 and "Second text" in mail.outbox[0].body
    response = Client().post(link.removeprefix(settings.SITE_URL))
    assert response.status_code == 409
    assert "edited the comment since this email was sent" in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == "pending"


def test_edits_come_no_faster_than_comments(client):
    """Each edit that waits emails the moderators: a second edit at once is a 429 with
    Retry-After, the typed text shown again; after the wait it is taken."""
    comment = posted(client, body="First")
    assert client.post(edit_url(comment), {"body": "Second"}).status_code == 303
    response = client.post(edit_url(comment), {"body": "Third at once"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 15
    html = response.content.decode()
    assert "editing faster than we allow" in html and "Third at once</textarea>" in html
    Comment.objects.filter(pk=comment.pk).update(edited_at=timezone.now() - timedelta(seconds=16))
    assert client.post(edit_url(comment), {"body": "Third later"}).status_code == 303
    comment.refresh_from_db()
    assert comment.body == "Third later"


def test_moderators_see_when_a_comment_was_edited(client):
    comment = posted(client, approve=False, body="First")
    client.post(edit_url(comment), {"body": "Second"})
    moderator = Client()
    moderator.force_login(make_user(groups=["Moderators"]))
    page = moderator.get(reverse("admin:comments_comment_change", args=[comment.pk]))
    html = page.content.decode()
    assert "edited at" in html.lower()
    assert "held: new commenter (after an edit)" in html
