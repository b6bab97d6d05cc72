"""Writes to comments that views, admin actions and commands share."""

import hashlib
import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from articles.models import display_name
from newsroom.clients import client_ip
from newsroom.dates import machine_time

from .caching import announce_threads
from .models import Comment
from .moderation import comments_open, decide, policy

logger = logging.getLogger(__name__)

# The first key of the advisory locks that make one client's posts wait for each other.
RATE_LOCK_SPACE = 7341


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


def wait_for_clients_other_posts(client):
    """Within the transaction that will save a comment: wait until any other post from the same
    client being saved at this moment is committed (or rolled back), so that each is counted
    after the one before. PostgreSQL: a transaction-scoped advisory lock on the client's hash;
    SQLite: its transactions already write one at a time (settings: IMMEDIATE)."""
    if connection.vendor == "postgresql":
        key = int(hashlib.sha256(client.encode()).hexdigest()[:7], 16)  # fits an int4
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RATE_LOCK_SPACE, key])


def check_rate_limit(client):
    """Refuse a client over any of the configured limits (RateLimited, with seconds to wait).

    Counted from the database, the one place every post is kept: the comments this client's
    hash (see `client_hash`) wrote within the longest window. So the limit holds across every
    process and server, whatever the cache does (down, hung, emptied or restarted). Call it
    after `wait_for_clients_other_posts`, in the transaction that saves the comment."""
    limits = policy("RATE_LIMITS")
    longest = max(window for _, window in limits)
    now = timezone.now()
    stamps = list(  # newest first
        Comment.objects.filter(client_hash=client, created_at__gt=now - timedelta(seconds=longest))
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: max(limit for limit, _ in limits)]
    )
    for limit, window in limits:
        recent = [t for t in stamps if (now - t).total_seconds() < window]
        if len(recent) >= limit:
            wait = (recent[limit - 1] - now).total_seconds() + window
            raise RateLimited(retry_after=max(1, math.ceil(wait)))


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
    with transaction.atomic():
        wait_for_clients_other_posts(client)
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


@dataclass(frozen=True)
class Refused:
    """A decision not taken: the comment was decided by someone else since the moderator saw
    it. `comment` is as it is now (its status, moderated_by and moderated_at)."""

    comment: Comment
    wanted: str  # the status the moderator asked for

    def __str__(self):
        comment = self.comment
        who = comment.moderated_by.get_username() if comment.moderated_by else "the site"
        when = (
            timezone.localtime(comment.moderated_at).strftime("%d %b %Y %H:%M:%S")
            if comment.moderated_at
            else "an unknown time"
        )
        return (
            f"“{comment.excerpt}” was not marked {Comment.Status(self.wanted).label.lower()}: "
            f"since you saw it, {who} made it {comment.get_status_display().lower()} at {when}."
        )


@dataclass(frozen=True)
class Decided:
    """What set_status did: `changed`, the ids of the comments it moved; `refused`, a Refused
    for each comment whose moderation changed since the moderator saw it."""

    changed: list = field(default_factory=list)
    refused: list = field(default_factory=list)


def set_status(comments, *, status, by, seen=None):
    """Move comments to a status, noting who did it and when; returns a Decided.

    `seen`: {comment id: the moderation_stamp the moderator saw}. A comment whose stamp is no
    longer that (another moderator decided it meanwhile) is left as it is and reported in
    `refused`; the check and the change happen under a row lock, so of two moderators deciding
    at the same moment the second is refused. Comments without a stamp in `seen` are decided
    whatever their state (a bulk action over every page of a filtered list)."""
    label = Comment.Status(status).label.lower()
    seen = seen or {}
    with transaction.atomic():
        refused = []
        if seen:
            locked = Comment.objects.select_for_update().filter(pk__in=list(seen))
            stale = [
                c.pk
                for c in locked.only("status", "moderated_at")
                if seen[c.pk] != c.moderation_stamp
            ]
            if stale:
                now = Comment.objects.filter(pk__in=stale).select_related("moderated_by")
                refused = [Refused(comment, status) for comment in now.order_by("pk")]
                comments = comments.exclude(pk__in=stale)
        changing = comments.exclude(status=status)
        # Only comments that become, or stop being, public change a page.
        seen_on_pages = (
            changing
            if status == Comment.Status.APPROVED
            else changing.filter(status=Comment.Status.APPROVED)
        )
        announce_threads(seen_on_pages.values_list("article_id", flat=True))  # after the commit
        changed = list(changing.values_list("pk", flat=True))
        Comment.objects.filter(pk__in=changed).update(
            status=status,
            status_reason=f"{label} by {by.get_username()}",
            moderated_by=by,
            moderated_at=timezone.now(),
        )
    return Decided(changed=changed, refused=refused)


def approve(comments, *, by, seen=None):
    return set_status(comments, status=Comment.Status.APPROVED, by=by, seen=seen)


def reject(comments, *, by, seen=None):
    return set_status(comments, status=Comment.Status.REJECTED, by=by, seen=seen)


def mark_spam(comments, *, by, seen=None):
    return set_status(comments, status=Comment.Status.SPAM, by=by, seen=seen)


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
            name=display_name(by),
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
