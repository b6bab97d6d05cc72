"""A commenter asks to be emailed about replies: a confirmation email first (double opt-in),
then one email per approved reply, each with a one-click mute (RFC 8058). Every email goes
through the real task queue (the database backend) and the real worker (db_worker)."""

import email.policy
import re
import signal
from contextlib import contextmanager

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from comments import reply_emails, services
from comments.models import Comment, ReplyNotice, ReplySubscription

from .factories import comment_form_data, make_article, make_comment, make_user

# The real worker checks its database connection between tasks as a request does, and closes
# one left inside a transaction: these tests commit, as the site and the worker do.
pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "secret.skater@example.com"
SITE = "https://news.example"
_addresses = iter(range(10, 250))


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.MODERATOR_EMAILS = []


def post(article, **fields):
    """A reader posts the form from an address of their own (no rate limit between tests)."""
    return Client().post(
        reverse("comments:post", kwargs={"slug": article.slug}),
        comment_form_data(article, **fields),
        REMOTE_ADDR=f"198.51.100.{next(_addresses)}",
    )


@contextmanager
def signals_kept():
    """The worker sets its own SIGINT/SIGTERM handlers; the test run gets its own back."""
    kept = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)


def run_worker():
    """The real worker, once: it runs every queued task, then stops (`db_worker --batch`)."""
    with signals_kept():
        call_command(
            "db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0
        )


def link_in(message, kind):
    (path,) = re.findall(rf"{SITE}(/comments/replies/{kind}/\S+)", message.body)
    return path


def subscribe(article=None, *, email=ADDRESS, confirm=True):
    """A reader posts an approved comment with the box ticked and (by default) confirms by the
    link in the email the worker sends. Returns (their comment, the confirmation email)."""
    article = article or make_article(title="Leerdam wins")
    assert post(article, email=email, body="Great race!", notify_replies="on").status_code == 303
    comment = Comment.objects.get(body="Great race!")
    services.approve(Comment.objects.filter(pk=comment.pk), by=make_user())
    comment.refresh_from_db()
    run_worker()
    (message,) = mail.outbox
    mail.outbox.clear()
    if confirm:
        assert Client().post(link_in(message, "confirm")).status_code == 200
    return comment, message


def reply_to(comment, *, email="replier@example.com", status="approved", body="I agree!"):
    return make_comment(
        article=comment.article, parent=comment, email=email, status=status, body=body
    )


# --- Asking ------------------------------------------------------------------------------------


def test_the_form_offers_the_box_unticked():
    """The comment form has an optional "Email me when someone replies" checkbox."""
    article = make_article()
    html = Client().get(article.get_absolute_url()).content.decode()
    assert 'name="notify_replies"' in html
    assert "Email me when someone replies" in html
    box = re.search(r'<input[^>]*name="notify_replies"[^>]*>', html).group(0)
    assert 'type="checkbox"' in box and "checked" not in box


def test_without_the_box_nothing_is_queued_or_stored():
    """A comment posted without the box: no subscription, no task, no email."""
    article = make_article()
    assert post(article, email=ADDRESS).status_code == 303
    assert not ReplySubscription.objects.exists()
    assert not DBTaskResult.objects.exists()
    run_worker()
    assert mail.outbox == []


def test_the_box_queues_a_confirmation_in_the_database_sent_by_the_worker():
    """Ticking the box stores a subscription keyed by the address's email_key and queues the
    confirmation email as a task row; nothing is sent until the worker runs it."""
    article = make_article(title="Leerdam wins")
    assert post(article, email="Secret.Skater@EXAMPLE.com", notify_replies="on").status_code == 303
    subscription = ReplySubscription.objects.get()
    assert subscription.key == "secret.skater@example.com"
    assert subscription.confirmed_at is None
    task = DBTaskResult.objects.get()
    assert task.task_path == "comments.reply_emails.send_confirmation_task"
    assert task.status == "READY"
    assert mail.outbox == []
    run_worker()
    (message,) = mail.outbox
    assert message.to == ["Secret.Skater@EXAMPLE.com"]
    assert "Leerdam wins" in message.body
    assert link_in(message, "confirm")
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"


def test_the_confirmation_token_carries_an_id_not_the_address():
    """The link's token names the subscription by id; the address is not in it, even decoded."""
    _, message = subscribe(confirm=False)
    token = link_in(message, "confirm").rstrip("/").rsplit("/", 1)[1]
    payload = signing.loads(token, salt=reply_emails.SALTS["confirm"])
    assert payload["s"] == ReplySubscription.objects.get().pk
    assert "secret" not in token.lower() and "secret.skater" not in str(payload)


def test_ticking_again_before_confirming_sends_no_second_email_soon():
    """A second comment with the box within a day does not send another confirmation."""
    article = make_article()
    post(article, email=ADDRESS, body="First words", notify_replies="on")
    post(article, email=ADDRESS.upper(), body="Second words", notify_replies="on")
    run_worker()
    assert len(mail.outbox) == 1
    assert ReplySubscription.objects.get().comments.count() == 2


def test_a_comment_that_goes_to_spam_watches_nothing():
    """Spam asks for nothing: no subscription, no email."""
    article = make_article()
    post(article, email=ADDRESS, body="Cheap casino bonus here", notify_replies="on")
    assert Comment.objects.get().status == "spam"
    assert not ReplySubscription.objects.exists()


# --- Confirming --------------------------------------------------------------------------------


def test_nothing_is_sent_about_replies_before_confirming():
    """An approved reply to a comment whose author never confirmed: no email, no task."""
    comment, _ = subscribe(confirm=False)
    DBTaskResult.objects.all().delete()
    services.approve(Comment.objects.filter(pk=reply_to(comment, status="pending").pk), by=None)
    reply_to(comment)
    run_worker()
    assert mail.outbox == []
    assert not DBTaskResult.objects.exists()


def test_the_confirmation_page_get_changes_nothing_and_post_confirms():
    """Opening the link (mail scanners do, many times) only asks; its button's POST confirms."""
    comment, message = subscribe(confirm=False)
    path = link_in(message, "confirm")
    for _ in range(3):
        response = Client().get(path)
        assert response.status_code == 200
    html = response.content.decode()
    assert "Email you when someone replies?" in html and '<form method="post">' in html
    assert "no-store" in response["Cache-Control"] and response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers
    assert ReplySubscription.objects.get().confirmed_at is None
    response = Client().post(path)
    assert response.status_code == 200
    assert "Emails about replies are on" in response.content.decode()
    assert ReplySubscription.objects.get().is_active


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda token: token[:-3] + "abc", 400),  # changed signature
        (lambda token: token.split(":")[0], 400),  # cut short
        (lambda token: "nonsense", 400),
        (
            lambda token: signing.dumps({"s": 1, "v": "x"}, salt=reply_emails.SALTS["mute"]),
            400,  # a mute token is not a confirmation token
        ),
    ],
)
def test_a_forged_confirmation_link_is_refused(change, status):
    """A changed, cut or borrowed token gets a clear 4xx page and confirms nothing."""
    _, message = subscribe(confirm=False)
    token = link_in(message, "confirm").rstrip("/").rsplit("/", 1)[1]
    path = reverse("comments:replies-confirm", args=[change(token)])
    for response in (Client().get(path), Client().post(path)):
        assert response.status_code == status
        assert "This link is not valid" in response.content.decode()
    assert ReplySubscription.objects.get().confirmed_at is None


def test_an_expired_confirmation_link_says_so(settings):
    """Older than REPLY_CONFIRM_DAYS: 410 and how to get a new one; nothing confirmed."""
    _, message = subscribe(confirm=False)
    settings.COMMENTS = {**settings.COMMENTS, "REPLY_CONFIRM_DAYS": 0}
    response = Client().post(link_in(message, "confirm"))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert ReplySubscription.objects.get().confirmed_at is None


def test_a_link_of_an_erased_subscription_no_longer_works():
    """After erasure the links are 404: the subscription is gone."""
    _, message = subscribe(confirm=False)
    services.erase_commenter_data([ADDRESS])
    assert Client().post(link_in(message, "confirm")).status_code == 404


# --- Replies -----------------------------------------------------------------------------------


def test_an_approved_reply_sends_one_email_through_the_queue():
    """A reply published to a confirmed subscriber's comment is a queued task (in the database
    before any worker runs); the worker sends one email with the reply and its link."""
    comment, _ = subscribe()
    reply = services.staff_reply(parent=comment, body="Thanks for reading!", by=make_user())
    task = DBTaskResult.objects.filter(task_path__endswith="send_replies_task").get()
    assert task.status == "READY" and task.args_kwargs["args"] == [reply.pk]
    assert mail.outbox == []
    run_worker()
    (message,) = mail.outbox
    assert message.to == [ADDRESS]
    assert "Leerdam wins" in message.subject
    assert "Thanks for reading!" in message.body and "Great race!" in message.body
    assert f"{SITE}{reply.get_absolute_url()}" in message.body
    assert ReplyNotice.objects.filter(reply=reply).count() == 1


def test_a_reply_approved_at_posting_sends_its_email():
    """A reader's reply the moderation rules approve at once (a browser with an approved
    comment under the same name) is emailed like any other."""
    comment, _ = subscribe()
    replier = Client()
    url = reverse("comments:post", kwargs={"slug": comment.article.slug})
    fields = {"email": "fan@example.com", "name": "Fan"}
    replier.post(
        url,
        comment_form_data(comment.article, body="My first one", **fields),
        REMOTE_ADDR="192.0.2.5",
    )
    services.approve(Comment.objects.filter(body="My first one"), by=make_user())
    replier.post(
        url,
        comment_form_data(comment.article, body="And a reply", parent=comment.pk, **fields),
        REMOTE_ADDR="192.0.2.6",
    )
    assert Comment.objects.get(body="And a reply").status == "approved"
    run_worker()
    assert [m.to for m in mail.outbox] == [[ADDRESS]]
    assert "And a reply" in mail.outbox[0].body


@pytest.mark.parametrize("status", ["pending", "rejected", "spam"])
def test_no_email_for_a_reply_that_is_not_approved(status):
    """Pending, rejected and spam replies send nothing, even when the worker runs."""
    comment, _ = subscribe()
    reply = reply_to(comment, status="pending")
    if status != "pending":
        services.set_status(Comment.objects.filter(pk=reply.pk), status=status, by=None)
    run_worker()
    assert mail.outbox == []


def test_a_pending_reply_approved_later_sends_once_even_approved_twice():
    """Approval sends the email; rejecting and approving again does not send a second one."""
    comment, _ = subscribe()
    reply = reply_to(comment, status="pending")
    run_worker()
    assert mail.outbox == []
    moderator = make_user()
    services.approve(Comment.objects.filter(pk=reply.pk), by=moderator)
    run_worker()
    assert len(mail.outbox) == 1
    services.reject(Comment.objects.filter(pk=reply.pk), by=moderator)
    services.approve(Comment.objects.filter(pk=reply.pk), by=moderator)
    run_worker()
    assert len(mail.outbox) == 1


def test_a_reply_unapproved_before_the_worker_runs_sends_nothing():
    """The worker checks the reply again: rejected meanwhile, no email."""
    comment, _ = subscribe()
    reply = reply_to(comment, status="pending")
    moderator = make_user()
    services.approve(Comment.objects.filter(pk=reply.pk), by=moderator)
    services.reject(Comment.objects.filter(pk=reply.pk), by=moderator)
    run_worker()
    assert mail.outbox == []


def test_replying_to_yourself_sends_nothing():
    """The subscriber's own reply (any case or IDN form of the address) is not emailed."""
    comment, _ = subscribe()
    services.approve(
        Comment.objects.filter(pk=reply_to(comment, email=" SECRET.SKATER@Example.COM").pk),
        by=None,
    )
    run_worker()
    assert mail.outbox == []


def test_a_rolled_back_approval_queues_nothing():
    """The task row is part of the approving transaction: rolled back, nothing is queued."""
    from django.db import transaction

    comment, _ = subscribe()
    reply = reply_to(comment, status="pending")
    before = DBTaskResult.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.approve(Comment.objects.filter(pk=reply.pk), by=None)
        assert DBTaskResult.objects.count() == before + 1
        raise RuntimeError("the request failed after approving")
    assert DBTaskResult.objects.count() == before
    run_worker()
    assert mail.outbox == []


def test_a_queued_email_is_a_row_in_the_database_until_a_worker_runs():
    """Queued is stored: the task is a READY row naming the reply (nothing held in memory),
    and it stays one while no worker runs; the next worker sends it and marks it done."""
    comment, _ = subscribe()
    reply = services.staff_reply(parent=comment, body="Queued words", by=make_user())
    task = DBTaskResult.objects.get(status="READY")
    assert (task.task_path, task.args_kwargs) == (
        "comments.reply_emails.send_replies_task",
        {"args": [reply.pk], "kwargs": {}},
    )
    assert mail.outbox == []
    run_worker()
    assert [m.to for m in mail.outbox] == [[ADDRESS]]
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"


# --- Muting ------------------------------------------------------------------------------------


def reply_email(comment):
    services.staff_reply(parent=comment, body="A staff answer", by=make_user())
    run_worker()
    (message,) = mail.outbox
    mail.outbox.clear()
    return message


def test_a_reply_email_carries_rfc_8058_one_click_headers():
    """List-Unsubscribe names the https mute link (no address in it); List-Unsubscribe-Post
    says one click."""
    comment, _ = subscribe()
    message = reply_email(comment)
    headers = message.message()
    (url,) = re.fullmatch(r"<(\S+)>", headers["List-Unsubscribe"]).groups()
    assert url.startswith(f"{SITE}/comments/replies/mute/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url == f"{SITE}{link_in(message, 'mute')}"
    assert "secret.skater" not in url
    # As sent on the wire (the SMTP backend's policy): the link as it is, on one line, never
    # folded into RFC 2047 encoded-words that mail providers would not read as a link.
    raw = message.message(policy=email.policy.SMTP).as_bytes().decode("ascii")
    assert f"\r\nList-Unsubscribe: <{url}>\r\n" in raw
    assert "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw


def test_the_mute_page_get_changes_nothing_and_one_click_post_mutes():
    """A GET shows a button; the mail client's POST (no cookie, no CSRF token, the body RFC
    8058 prescribes) mutes, and later replies send nothing."""
    comment, _ = subscribe()
    path = link_in(reply_email(comment), "mute")
    response = Client().get(path)
    assert response.status_code == 200
    assert "Stop emails about replies?" in response.content.decode()
    assert ReplySubscription.objects.get().is_active
    one_click = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert one_click.status_code == 200
    assert "Emails about replies are off" in one_click.content.decode()
    assert ReplySubscription.objects.get().muted_at is not None
    services.staff_reply(parent=comment, body="Another answer", by=make_user())
    run_worker()
    assert mail.outbox == []


def test_a_confirmation_link_from_before_a_mute_does_not_undo_it():
    """Muted after confirming: the old confirmation link (still within its days) says it no
    longer turns emails on, and nothing is sent; the mute link's page says emails are off."""
    comment, confirmation = subscribe()
    mute_path = link_in(reply_email(comment), "mute")
    Client().post(mute_path)
    confirm_path = link_in(confirmation, "confirm")
    for response in (Client().get(confirm_path), Client().post(confirm_path)):
        assert response.status_code == 410
        assert "no longer turns emails on" in response.content.decode()
    assert ReplySubscription.objects.get().muted_at is not None
    again = Client().get(mute_path)
    assert again.status_code == 200 and "Emails about replies are off" in again.content.decode()
    services.staff_reply(parent=comment, body="Still unseen", by=make_user())
    run_worker()
    assert mail.outbox == []


def test_a_forged_mute_link_is_refused():
    """A changed mute token, or a confirmation token used to mute: 4xx, nothing muted."""
    comment, confirmation = subscribe()
    path = link_in(reply_email(comment), "mute")
    confirm_token = link_in(confirmation, "confirm").rstrip("/").rsplit("/", 1)[1]
    for bad in (path[:-4] + "xyz/", reverse("comments:replies-mute", args=[confirm_token])):
        for response in (Client().get(bad), Client().post(bad)):
            assert response.status_code == 400
    assert ReplySubscription.objects.get().is_active


def test_ticking_the_box_again_after_muting_asks_to_confirm_again(settings):
    """Muted, then the box again: a new confirmation email, and nothing until it is used."""
    settings.COMMENTS = {**settings.COMMENTS, "REPLY_CONFIRM_RESEND_HOURS": 0}
    comment, _ = subscribe()
    Client().post(link_in(reply_email(comment), "mute"))
    post(comment.article, email=ADDRESS, body="Back again", notify_replies="on")
    services.staff_reply(parent=comment, body="Unseen answer", by=make_user())
    run_worker()
    (message,) = mail.outbox
    assert "/comments/replies/confirm/" in message.body
    Client().post(link_in(message, "confirm"))
    mail.outbox.clear()
    services.staff_reply(parent=comment, body="Seen answer", by=make_user())
    run_worker()
    assert len(mail.outbox) == 1 and "Seen answer" in mail.outbox[0].body


# --- Privacy -----------------------------------------------------------------------------------


def test_erasing_an_address_erases_its_subscription_and_stops_the_emails():
    """erase_commenter_data (any case of the address) deletes the subscription: no more email."""
    comment, _ = subscribe()
    call_command("erase_commenter_data", ADDRESS.upper(), stdout=None)
    assert not ReplySubscription.objects.exists()
    services.staff_reply(parent=comment, body="After erasure", by=make_user())
    run_worker()
    assert mail.outbox == []


def test_export_includes_the_subscription(capsys):
    """export_commenter_data lists the subscription: its comments, when confirmed, emails."""
    import json

    comment, _ = subscribe()
    reply_email(comment)
    call_command("export_commenter_data", ADDRESS)
    data = json.loads(capsys.readouterr().out)
    (exported,) = data["reply_subscriptions"]
    assert exported["email"] == ADDRESS
    assert exported["comments"] == [comment.pk]
    assert exported["confirmed_at"] and exported["muted_at"] is None
    assert len(exported["replies_emailed"]) == 1


def test_no_address_in_logs_or_failed_tasks(caplog, settings):
    """A mail server that refuses: the task fails, and neither the log nor the stored error
    names the address."""
    import logging

    caplog.set_level(logging.DEBUG)
    comment, _ = subscribe()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 1},
        }
    }
    services.staff_reply(parent=comment, body="Undeliverable", by=make_user())
    run_worker()
    failed = DBTaskResult.objects.get(status="FAILED")
    stored = f"{failed.exception_class_path} {failed.traceback}"
    assert "DeliveryFailed" in stored
    assert "secret.skater" not in stored.lower()
    assert "secret.skater" not in caplog.text.lower()
    assert not ReplyNotice.objects.exists()  # not recorded as sent: a retry would send it


def test_a_queued_email_survives_a_restart(tmp_path):
    """Two processes, as in production: the site's process queues the reply email and exits;
    a worker started afterwards (`manage.py db_worker --batch`) finds and sends it."""
    from .servers import environment, manage

    env = environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}",
        NEWSROOM_SITE_URL=SITE,
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
    )
    manage("migrate", "--noinput", "-v0", env=env)
    queue = f"""
from django.utils import timezone
from comments import services
from comments.models import ReplySubscription
from tests.factories import make_comment, make_user
comment = make_comment(email="{ADDRESS}", body="Great race!")
subscription = ReplySubscription.objects.create(key="{ADDRESS}", email="{ADDRESS}",
    confirmed_at=timezone.now())
subscription.comments.add(comment)
services.staff_reply(parent=comment, body="Sent after a restart", by=make_user())
"""
    manage("shell", "-c", queue, env=env)
    worker = manage(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0", env=env
    )
    assert f"To: {ADDRESS}" in worker.stdout
    assert "Sent after a restart" in worker.stdout
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in worker.stdout
    again = manage(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0", env=env
    )
    assert "Sent after a restart" not in again.stdout  # sent once


def test_a_held_reply_its_author_edits_into_an_approved_one_sends_its_email():
    """Editing a held reply so that the moderation rules approve it (a returning commenter's
    browser, no links left) approves it like a moderator would: the email is sent."""
    from comments.editing import edit_comment

    comment, _ = subscribe()
    earlier = make_comment(name="Fan", email="fan@example.com", body="An earlier comment")
    held = reply_to(comment, email="fan@example.com", status="pending")
    Comment.objects.filter(pk=held.pk).update(name="Fan")
    edited = edit_comment(held.pk, body="Edited: no links now", own_ids=[earlier.pk, held.pk])
    assert edited.status == "approved"
    run_worker()
    assert [m.to for m in mail.outbox] == [[ADDRESS]]
    assert "Edited: no links now" in mail.outbox[0].body
