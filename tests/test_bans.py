"""A moderator bans a commenter by address or by client: their new comments go to spam without
telling them, their earlier ones can be hidden in one step, a ban can be lifted, and each step
is in the admin's log."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse

from comments import banning
from comments.models import Ban, Comment
from comments.throttling import client_hash

from .factories import make_article, make_ban, make_comment, make_user
from .test_moderating import post

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/comments/comment/"
BANS = "/admin/comments/ban/"


@pytest.fixture
def moderator(client):
    user = make_user(groups=["Moderators"])
    client.force_login(user)
    return user


def log_of(obj):
    return [
        entry.get_change_message()
        for entry in LogEntry.objects.filter(object_id=str(obj.pk)).order_by("pk")
        if entry.content_type.model_class() is type(obj)
    ]


class Req:
    def __init__(self, address):
        self.META = {"REMOTE_ADDR": address}


@pytest.mark.parametrize(
    "typed", ["elodie@exämple.org", "ELODIE@EXÄMPLE.ORG", "Elodie@xn--exmple-cua.org"]
)
def test_a_banned_addresss_new_comment_goes_to_spam_and_looks_held_to_them(
    typed, settings, django_capture_on_commit_callbacks
):
    """Banned as elodie@exämple.org, any case or IDN form: the comment is spam, nobody is
    emailed, and the poster's page shows it "awaiting moderation" like any held comment; a
    stranger never sees it."""
    settings.MODERATOR_EMAILS = ["desk@newsroom.example"]
    banning.ban(kind=Ban.Kind.EMAIL, value="elodie@exämple.org", reason="Abuse", by=make_user())
    article = make_article()
    poster = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(poster, article, email=typed, body="Banned words here")
    comment = Comment.objects.get(body="Banned words here")
    assert (comment.status, comment.status_reason) == ("spam", "spam: banned")
    assert not mail.outbox
    assert response.status_code == 303
    assert response["Location"].endswith(f"#c{comment.pk}")  # as for a held comment
    own_page = poster.get(article.get_absolute_url()).content.decode()
    assert "Banned words here" in own_page and "awaiting moderation" in own_page
    assert "Banned words here" not in Client().get(article.get_absolute_url()).content.decode()


def test_a_banned_client_is_banned_whatever_address_it_types():
    """A client ban (the keyed hash of the network address) catches any name and address."""
    banning.ban(
        kind=Ban.Kind.CLIENT,
        value=client_hash(Req("198.51.100.9")),
        reason="Flood",
        by=make_user(),
    )
    article = make_article()
    post(Client(), article, address="198.51.100.9", email="new@example.com", body="Flooding")
    post(Client(), article, address="198.51.100.10", email="new@example.com", body="Other")
    statuses = dict(Comment.objects.values_list("body", "status"))
    assert statuses == {"Flooding": "spam", "Other": "pending"}


def test_ban_from_the_queue_asks_a_reason_then_bans_and_hides_earlier_comments(client, moderator):
    """Ban the selected commenter's address: a page asks why (never showing the address); with
    a reason and "hide earlier" the ban is made and every comment of that address, whatever its
    case, goes to spam, each step in the log; other people's comments stay."""
    first = make_comment(email="Troll@Example.com", status="pending", body="Troll one")
    earlier = make_comment(email="troll@example.com", status="approved", body="Troll two")
    other = make_comment(email="kind@example.com", status="approved")
    form = {"action": "ban_emails", "_selected_action": [first.pk]}
    asked = client.post(CHANGELIST, form)
    assert asked.status_code == 200
    html = asked.content.decode()
    assert "Ban the email address of 1 commenter" in html and "troll@" not in html.lower()
    refused = client.post(CHANGELIST, {**form, "confirm": "1", "reason": ""})
    assert refused.status_code == 200 and not Ban.objects.exists()
    done = client.post(
        CHANGELIST, {**form, "confirm": "1", "reason": "Abuse", "hide_earlier": "on"}, follow=True
    )
    assert "Banned 1 commenter(s). Marked 2 earlier comment(s) as spam." in done.content.decode()
    ban = Ban.objects.get()
    assert (ban.kind, ban.value, ban.reason, ban.created_by) == (
        "email",
        "troll@example.com",
        "Abuse",
        moderator,
    )
    for comment in (first, earlier, other):
        comment.refresh_from_db()
    assert (first.status, earlier.status, other.status) == ("spam", "spam", "approved")
    assert log_of(ban) == ["Banned (email address): Abuse"]
    assert log_of(earlier) == ["Marked spam (earlier comment of a banned commenter)."]


def test_banning_twice_says_so_and_keeps_one_ban(client, moderator):
    """The same address banned again: one ban, and the message says it was already banned."""
    comment = make_comment(email="dup@example.com")
    form = {"action": "ban_emails", "_selected_action": [comment.pk], "confirm": "1"}
    every = CHANGELIST + "?status__exact=all"
    client.post(every, {**form, "reason": "First"})
    again = client.post(every, {**form, "reason": "Second"}, follow=True)
    assert "Banned 0 commenter(s); 1 already banned." in again.content.decode()
    assert Ban.objects.count() == 1
    with pytest.raises(banning.AlreadyBanned):
        banning.ban(kind="email", value="DUP@example.com", reason="Third", by=moderator)


def test_ban_by_client_from_the_queue(client, moderator):
    """A comment's client hash banned from the list; a comment without one says so."""
    comment = make_comment(client_hash="a" * 64)
    bare = make_comment(client_hash="")
    form = {"action": "ban_clients", "confirm": "1", "reason": "Bot"}
    client.post(CHANGELIST + "?status__exact=all", {**form, "_selected_action": [comment.pk]})
    assert Ban.objects.get().value == "a" * 64
    response = client.post(
        CHANGELIST + "?status__exact=all", {**form, "_selected_action": [bare.pk]}, follow=True
    )
    assert "have no client" in response.content.decode()


def test_lifting_a_ban_lets_new_comments_be_moderated_as_anyones(client, moderator):
    """Lift: the ban stays on record, lifted by whom and when, logged; the next comment from
    that address is held like anyone's."""
    ban = make_ban(value="back@example.com")
    response = client.post(BANS, {"action": "lift", "_selected_action": [ban.pk]}, follow=True)
    assert "Lifted 1 ban(s)." in response.content.decode()
    ban.refresh_from_db()
    assert ban.lifted_by == moderator and ban.lifted_at is not None and not ban.is_active
    assert log_of(ban) == ["Lifted the ban."]
    post(Client(), make_article(), email="back@example.com", body="I am back")
    assert Comment.objects.get(body="I am back").status == "pending"
    assert client.get(reverse("admin:comments_ban_delete", args=[ban.pk])).status_code == 403


def test_ban_added_in_its_own_page_is_kept_by_its_key_and_logged(client, moderator):
    """The add page: an address in any case is kept as its key; "hide earlier" hides; a second
    ban of the same address is refused with a message."""
    earlier = make_comment(email="spam.bot@example.com")
    data = {"kind": "email", "value": "Spam.Bot@EXAMPLE.com", "reason": "Spam run"}
    response = client.post(reverse("admin:comments_ban_add"), {**data, "hide_earlier": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    ban = Ban.objects.get()
    assert ban.value == "spam.bot@example.com" and ban.created_by == moderator
    assert log_of(ban) == ["Banned (email address): Spam run"]
    earlier.refresh_from_db()
    assert earlier.status == "spam"
    again = client.post(reverse("admin:comments_ban_add"), data)
    assert again.status_code == 200
    assert "This commenter is already banned." in again.content.decode()
    assert Ban.objects.count() == 1


def test_the_list_of_bans_masks_addresses_without_the_permission(client, moderator):
    """Bans show j•••@e•••.com to moderators who may not see addresses (the ban's page and its
    log entries too), and the address with the permission."""
    ban = make_ban(value="jane@example.com")
    banning.lift(Ban.objects.filter(pk=ban.pk), by=moderator)
    assert "jane@example.com" not in client.get(BANS).content.decode()
    for page in ("change", "history"):
        url = reverse(f"admin:comments_ban_{page}", args=[ban.pk])
        assert "jane@example.com" not in client.get(url).content.decode()
    assert "j•••@e•••.com" in client.get(BANS).content.decode()
    moderator.user_permissions.add(Permission.objects.get(codename="view_commenter_email"))
    assert "jane@example.com" in client.get(BANS).content.decode()
