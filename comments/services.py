"""Writes to comments that views, admin actions and commands share."""

import logging
import math
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from newsroom.clients import client_ip
from newsroom.dates import machine_time

from .caching import announce_threads
from .models import Comment
from .moderation import comments_open, decide, policy

logger = logging.getLogger(__name__)

# How long a post waits for another post from the same client to be counted.
BUSY_WAIT_SECONDS = 1.0


class CommentRefused(Exception):
    """A comment the site will not take, with a message for the reader."""


class CommentsClosed(CommentRefused):
    def __init__(self):
        super().__init__("Comments on this story are closed, so your comment was not posted.")


class DuplicateComment(CommentRefused):
    def __init__(self):
        super().__init__("You have already posted this comment on this story.")


class RateLimited(CommentRefused):
    def __init__(self, retry_after):
        self.retry_after = retry_after
        super().__init__(
            f"You are commenting faster than we allow. Please wait {retry_after} "
            f"second{'s' if retry_after != 1 else ''} and send your comment again."
        )


class CannotReply(CommentRefused):
    pass


# --- Clients --------------------------------------------------------------------------------


def client_hash(request):
    """A keyed hash of the client's IP: enough to rate-limit, never the address itself."""
    address = client_ip(request) or "unknown"
    return salted_hmac("comments.client", address, algorithm="sha256").hexdigest()


def check_rate_limit(client):
    """Refuse a client over any of the configured limits; otherwise count this comment."""
    limits = policy("RATE_LIMITS")
    longest = max(window for _, window in limits)
    key = f"comments:rate:{client}"
    # Concurrent posts from one client must not all pass the check before any is counted: each
    # waits its turn (the check takes a millisecond), and is refused only if the turn never comes.
    busy = f"{key}:busy"
    # (When the cache is down both calls miss and the limit is simply not enforced.)
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while not cache.add(busy, 1, timeout=5) and cache.get(busy) is not None:
        if time.monotonic() > deadline:
            raise RateLimited(retry_after=5)
        time.sleep(0.01)
    try:
        now = time.time()
        stamps = sorted(t for t in cache.get(key, []) if now - t < longest)
        for limit, window in limits:
            recent = [t for t in stamps if now - t < window]
            if len(recent) >= limit:
                raise RateLimited(retry_after=max(1, math.ceil(recent[-limit] + window - now)))
        cache.set(key, [*stamps, now], timeout=longest)
    finally:
        cache.delete(busy)


def forget_old_client_hashes():
    """Client hashes are kept only as long as the policy says; the sweep runs at most hourly."""
    if not cache.add("comments:hash-sweep", 1, timeout=3600):
        return 0
    cutoff = timezone.now() - timedelta(days=policy("CLIENT_HASH_DAYS"))
    return (
        Comment.objects.filter(created_at__lt=cutoff).exclude(client_hash="").update(client_hash="")
    )


# --- Posting --------------------------------------------------------------------------------


def reply_target(parent):
    """Where a reply to `parent` goes: under it, or beside it when the thread is at its depth."""
    ancestors = []
    node = parent
    while node.parent_id and len(ancestors) < policy("MAX_DEPTH"):
        node = Comment.objects.only("pk", "parent_id").filter(pk=node.parent_id).first()
        if node is None:  # deleted while the reply was being written
            break
        ancestors.append(node)
    depth = len(ancestors) + 1
    if depth >= policy("MAX_DEPTH") and parent.parent_id:
        return Comment.objects.filter(pk=parent.parent_id).first() or parent
    return parent


def is_duplicate(comment, client):
    """The same body from the same client on the same story. Never matched by email: the
    answer would tell a stranger which address wrote a public comment."""
    return Comment.objects.filter(
        article_id=comment.article_id, body=comment.body, client_hash=client
    ).exists()


def post_comment(*, comment, client, own_ids=()):
    """Check, decide and save a reader's comment built by the form; tell moderators if it waits.

    `client` is client_hash(request); `own_ids` the ids of the comments the posting browser
    wrote, from its signed cookie (cookies.own_ids), its only proof of identity.
    """
    if not comments_open(comment.article):
        raise CommentsClosed
    if is_duplicate(comment, client):
        raise DuplicateComment
    check_rate_limit(client)
    decision = decide(comment, own_ids=own_ids)
    comment.status, comment.status_reason = decision.status, decision.reason
    comment.client_hash = client
    comment.save()
    if comment.status == Comment.Status.PENDING:
        transaction.on_commit(lambda: notify_moderators(comment))
    forget_old_client_hashes()
    return comment


def notify_moderators(comment):
    """Email the moderators that a comment waits. Only fixed text goes in the headers."""
    if not settings.MODERATOR_EMAILS:
        return
    admin_path = reverse("admin:comments_comment_change", args=[comment.pk])
    message = EmailMessage(
        subject=f"[{settings.SITE_NAME}] A comment is waiting for moderation",
        body=render_to_string(
            "comments/email/pending.txt",
            {"comment": comment, "admin_url": f"{settings.SITE_URL}{admin_path}"},
        ),
        to=settings.MODERATOR_EMAILS,
    )
    try:
        message.send()
    except (OSError, ValueError) as error:
        logger.warning("Could not email the moderators about comment %s: %s", comment.pk, error)


# --- Moderating -----------------------------------------------------------------------------


def set_status(comments, *, status, by):
    """Move comments to a status, noting who did it and when. Returns how many changed."""
    label = Comment.Status(status).label.lower()
    with transaction.atomic():
        changing = comments.exclude(status=status)
        # Only comments that become, or stop being, public change a page.
        seen = changing if status == Comment.Status.APPROVED else changing.filter(
            status=Comment.Status.APPROVED
        )
        announce_threads(seen.values_list("article_id", flat=True))  # after the commit
        count = changing.update(
            status=status,
            status_reason=f"{label} by {by.get_username()}",
            moderated_by=by,
            moderated_at=timezone.now(),
        )
    return count


def approve(comments, *, by):
    return set_status(comments, status=Comment.Status.APPROVED, by=by)


def reject(comments, *, by):
    return set_status(comments, status=Comment.Status.REJECTED, by=by)


def mark_spam(comments, *, by):
    return set_status(comments, status=Comment.Status.SPAM, by=by)


def staff_reply(*, parent, body, by):
    """An approved reply from a member of staff; answering a pending comment approves it."""
    if parent.status in (Comment.Status.REJECTED, Comment.Status.SPAM):
        raise CannotReply("You cannot reply to a rejected or spam comment: approve it first.")
    with transaction.atomic():
        if parent.status == Comment.Status.PENDING:
            approve(Comment.objects.filter(pk=parent.pk), by=by)
        now = timezone.now()
        return Comment.objects.create(
            article_id=parent.article_id,
            parent=reply_target(parent),
            name=by.get_full_name() or by.get_username(),
            body=body.replace("\r\n", "\n").strip(),
            status=Comment.Status.APPROVED,
            status_reason=f"staff reply by {by.get_username()}",
            is_staff_reply=True,
            user=by,
            moderated_by=by,
            moderated_at=now,
        )


# --- Privacy --------------------------------------------------------------------------------


def comments_by_emails(emails):
    """Every comment written with one of these addresses, whatever their case."""
    query = Q(pk__in=[])
    for email in {email.strip() for email in emails if email and email.strip()}:
        query |= Q(email__iexact=email)
    return Comment.objects.filter(query)


def export_commenter_data(emails):
    """Everything stored about the people with these email addresses, as plain data."""
    comments = comments_by_emails(emails)
    return {
        "exported_at": machine_time(timezone.now()),
        "emails": sorted({email.strip().lower() for email in emails if email.strip()}),
        "comments": [
            {
                "id": comment.pk,
                "article": comment.article.title,
                "article_url": comment.article.get_absolute_url(),
                "in_reply_to": comment.parent_id,
                "name": comment.name,
                "email": comment.email,
                "website": comment.website,
                "body": comment.body,
                "status": comment.status,
                "created_at": machine_time(comment.created_at),
                "client_hash": comment.client_hash,
            }
            for comment in comments.select_related("article").order_by("created_at", "pk")
        ],
    }


@transaction.atomic
def delete_comments(comments):
    """Delete comments but not other people's replies: those move up to the nearest survivor."""
    doomed = set(comments.values_list("pk", flat=True))
    orphans = Comment.objects.filter(parent_id__in=doomed).exclude(pk__in=doomed)
    for reply in orphans.select_related("parent"):
        new_parent = reply.parent
        while new_parent is not None and new_parent.pk in doomed:
            new_parent = new_parent.parent
        Comment.objects.filter(pk=reply.pk).update(parent=new_parent)
        announce_threads([reply.article_id])
    Comment.objects.filter(pk__in=doomed).delete()
    return len(doomed)


def erase_commenter_data(emails, *, delete=False):
    """Anonymise (or delete) every comment written with these addresses; returns how many."""
    comments = comments_by_emails(emails)
    if delete:
        return delete_comments(comments)
    with transaction.atomic():
        announce_threads(comments.values_list("article_id", flat=True))  # after the commit
        count = comments.update(name="Anonymous", email="", website="", client_hash="")
    return count
