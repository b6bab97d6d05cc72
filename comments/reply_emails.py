"""Reply notifications: a commenter who ticks "Email me when someone replies" is emailed once for
each approved reply to their comment, after confirming their address (double opt-in), with a
one-click mute (RFC 8058).

The subscription is one row per address (models.ReplySubscription, keyed by email_key). Its
links carry a signed token naming the subscription's id and secret, never the address: the
confirmation link expires (policy REPLY_CONFIRM_DAYS), the mute link does not. Every email goes
through Django's task framework (settings.TASKS, the database backend): the task is a row written
in the transaction that asks for it, so nothing is sent before that commits, and a queued email
survives a restart until `manage.py db_worker` sends it. No address reaches a log line."""

import email.policy
import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .addresses import email_key
from .models import Comment, ReplyNotice, ReplySubscription
from .policy import policy
from .signed_links import LinkRefused, signed_payload

logger = logging.getLogger(__name__)

CONFIRM, MUTE = "confirm", "mute"
SALTS = {CONFIRM: "comments.replies.confirm", MUTE: "comments.replies.mute"}
ONE_CLICK = "List-Unsubscribe=One-Click"


class DeliveryFailed(Exception):
    """An email could not be handed to the mail server. Says which kind and which row, never
    the address (an SMTP error names the recipient; it is not chained, so no log shows it)."""


# --- Links ------------------------------------------------------------------------------------


def make_token(subscription, kind):
    """The signed token of a CONFIRM or MUTE link: the subscription's id and secret (and, for
    CONFIRM, when it was made, in seconds since the epoch: see read)."""
    payload = {"s": subscription.pk, "v": subscription.secret}
    if kind == CONFIRM:
        payload["t"] = timezone.now().timestamp()
    return signing.dumps(payload, salt=SALTS[kind])


def link(subscription, kind):
    """The absolute link (settings.SITE_URL + path) of a CONFIRM or MUTE page."""
    path = reverse(f"comments:replies-{kind}", args=[make_token(subscription, kind)])
    return f"{settings.SITE_URL}{path}"


@dataclass(frozen=True)
class Link:
    """A valid link, read: what it does and to which subscription."""

    kind: str
    subscription: ReplySubscription


def read(kind, token):
    """The Link a token stands for, or LinkRefused: 400 for a changed or cut token (or one
    made for the other kind of link), 410 for a confirmation link older than
    REPLY_CONFIRM_DAYS or made before the address muted reply emails (a mute is undone only
    by a new confirmation), 404 once the subscription was erased."""
    days = policy("REPLY_CONFIRM_DAYS")
    payload = signed_payload(
        token,
        salt=SALTS[kind],
        max_age=days * 24 * 3600 if kind == CONFIRM else None,
        expired=f"Confirmation links work for {days} days. Tick “Email me when someone "
        "replies” the next time you comment to get a new one.",
    )
    subscription = ReplySubscription.objects.filter(
        pk=payload.get("s"), secret=str(payload.get("v"))
    ).first()
    if subscription is None:
        raise LinkRefused(
            404,
            "This link no longer works",
            "The request it belonged to was erased. Nothing is sent to you about replies.",
        )
    muted = subscription.muted_at
    if kind == CONFIRM and muted and payload.get("t", 0) < muted.timestamp():
        raise LinkRefused(
            410,
            "This link no longer turns emails on",
            "You stopped emails about replies after this link was sent. To get them again, "
            "tick “Email me when someone replies” the next time you comment.",
        )
    return Link(kind=kind, subscription=subscription)


def confirm(subscription):
    """The address confirmed: replies approved from now on are emailed (mute lifted)."""
    ReplySubscription.objects.filter(pk=subscription.pk).update(
        confirmed_at=timezone.now(), muted_at=None
    )
    logger.info("Reply emails confirmed for subscription %s", subscription.pk)


def mute(subscription):
    """No more reply emails to this address, until it ticks the box and confirms again."""
    ReplySubscription.objects.filter(pk=subscription.pk, muted_at__isnull=True).update(
        muted_at=timezone.now()
    )
    logger.info("Reply emails muted for subscription %s", subscription.pk)


# --- Asking and queueing ----------------------------------------------------------------------


def queue(task_, *args):
    """Enqueue a task for after the current transaction commits. On the database backend the
    task is a row of this transaction (it commits, or rolls back, with the change); another
    backend enqueues once the transaction has committed."""
    from django_tasks_db import DatabaseBackend

    if isinstance(task_.get_backend(), DatabaseBackend):
        task_.enqueue(*args)
    else:
        transaction.on_commit(partial(task_.enqueue, *args), robust=True)


def watch(comment):
    """A comment posted with "Email me when someone replies" ticked (inside the posting
    transaction): its address's subscription watches it; an address not confirmed (or muted)
    is sent a confirmation email, at most once per REPLY_CONFIRM_RESEND_HOURS. A comment that
    went to spam or was rejected watches nothing. Returns the subscription or None."""
    if not comment.email or comment.status in (Comment.Status.SPAM, Comment.Status.REJECTED):
        return None
    subscription, _ = ReplySubscription.objects.get_or_create(
        key=email_key(comment.email), defaults={"email": comment.email}
    )
    subscription.comments.add(comment)
    if subscription.is_active:
        return subscription
    now = timezone.now()
    resend_after = timedelta(hours=policy("REPLY_CONFIRM_RESEND_HOURS"))
    if subscription.confirm_sent_at and now - subscription.confirm_sent_at < resend_after:
        return subscription
    ReplySubscription.objects.filter(pk=subscription.pk).update(
        confirm_sent_at=now, email=comment.email
    )
    queue(send_confirmation_task, subscription.pk)
    return subscription


def replies_approved(comment_ids):
    """These comments were just approved (inside the deciding transaction): queue one email
    task for each that answers a comment watched by a confirmed, unmuted subscription."""
    watched = (
        Comment.objects.public()
        .filter(pk__in=list(comment_ids))
        .filter(
            parent__reply_subscriptions__confirmed_at__isnull=False,
            parent__reply_subscriptions__muted_at__isnull=True,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    for pk in watched:
        queue(send_replies_task, pk)


# --- Sending (in the worker) -----------------------------------------------------------------


def send(message, what):
    try:
        message.send()
    except (OSError, smtplib.SMTPException, ValueError) as error:
        raise DeliveryFailed(f"{what}: {type(error).__name__}") from None


def send_confirmation(subscription_id):
    """Email the address of a subscription not yet confirmed the link that confirms it.
    Returns whether an email was sent."""
    subscription = ReplySubscription.objects.filter(pk=subscription_id).first()
    if subscription is None or subscription.is_active:
        return False
    latest = subscription.comments.select_related("article").order_by("-created_at").first()
    message = EmailMessage(
        subject=f"[{settings.SITE_NAME}] Confirm emails about replies to your comment",
        body=render_to_string(
            "comments/email/reply_confirm.txt",
            {
                "site_name": settings.SITE_NAME,
                "article": latest.article if latest else None,
                "confirm_url": link(subscription, CONFIRM),
                "days": policy("REPLY_CONFIRM_DAYS"),
            },
        ),
        to=[subscription.email],
    )
    send(message, f"confirmation for subscription {subscription.pk}")
    logger.info("Reply emails: confirmation sent for subscription %s", subscription.pk)
    return True


def send_replies(reply_id):
    """Email each confirmed, unmuted subscription watching the comment that `reply_id`
    answers, once per reply: never while the reply is not approved, never to the replier's own
    address. Returns how many emails were sent."""
    reply = Comment.objects.select_related("article", "parent").filter(pk=reply_id).first()
    if reply is None or not reply.is_public or reply.parent is None:
        return 0
    subscriptions = (
        ReplySubscription.objects.active()
        .filter(comments=reply.parent)
        .exclude(key=email_key(reply.email) or None)
        .exclude(notices__reply=reply)
    )
    sent = 0
    for subscription in subscriptions:
        with transaction.atomic():
            _, new = ReplyNotice.objects.get_or_create(subscription=subscription, reply=reply)
            if not new:
                continue
            send(reply_message(reply, subscription), f"reply {reply.pk}")
        sent += 1
    if sent:
        logger.info("Reply %s emailed to %s subscription(s)", reply.pk, sent)
    return sent


class OneClickEmail(EmailMessage):
    """An EmailMessage whose headers are never folded into RFC 2047 encoded-words. Python's
    email package folds a header longer than 78 characters, and a URL has no space to fold
    at, so `List-Unsubscribe: <https://...>` came out as `=?utf-8?q?=3Chttps...?=`, which mail
    providers do not read as RFC 8058's one-click link. Lines may be up to 998 characters
    (RFC 5322, 2.1.1), which every header here fits in."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=998))


def reply_message(reply, subscription):
    """The email telling a subscription's address of `reply`, with RFC 8058's one-click mute:
    `List-Unsubscribe: <https://.../mute/TOKEN/>` and `List-Unsubscribe-Post`."""
    mute_url = link(subscription, MUTE)
    title = " ".join(reply.article.title.split())
    return OneClickEmail(
        subject=f"[{settings.SITE_NAME}] A reply to your comment on “{title}”",
        body=render_to_string(
            "comments/email/reply.txt",
            {
                "reply": reply,
                "parent": reply.parent,
                "article": reply.article,
                "reply_url": f"{settings.SITE_URL}{reply.get_absolute_url()}",
                "mute_url": mute_url,
            },
        ),
        to=[subscription.email],
        headers={"List-Unsubscribe": f"<{mute_url}>", "List-Unsubscribe-Post": ONE_CLICK},
    )


@task
def send_confirmation_task(subscription_id):
    """The queued form of send_confirmation (an int id in, a bool out: JSON both ways)."""
    return send_confirmation(subscription_id)


@task
def send_replies_task(reply_id):
    """The queued form of send_replies (an int id in, an int out)."""
    return send_replies(reply_id)
