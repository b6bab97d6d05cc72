"""A reader's comment from the form to the database: where a reply goes, duplicates, the rate
limit, the moderation rules' decision, and the moderators' email when it waits."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from . import email_links, reply_emails
from .addresses import email_key
from .models import Comment
from .moderation import comments_open, decide
from .policy import policy
from .refusals import CommentsClosed, DuplicateComment
from .throttling import check_rate_limit, forget_old_client_hashes, wait_for_clients_other_posts

logger = logging.getLogger(__name__)


def is_duplicate(comment, client, own_ids=()):
    """Whether the commenter already posted this text on this story: the same body, the same
    address (compared by addresses.email_key, any case or IDN form) and the same story.

    Only the comments this client wrote (its keyed hash) or this browser wrote (`own_ids`, from
    its signed cookie) are compared, never every comment under that address: the answer would
    tell a stranger who typed a guessed address which one wrote a public comment. So two people
    behind one network address (a family, an office) posting the same short text are both
    taken, and the same person sending theirs again is refused."""
    key = email_key(comment.email)
    emails = same_text_by_them(comment, client, own_ids)
    return any(email_key(email) == key for email in emails)


def same_text_by_them(comment, client, own_ids=()):
    """The addresses ("email" values) of the comments with `comment`'s body on its story that
    this client or browser wrote: the candidates is_duplicate compares. Two reads in one query,
    each through its own index (the small one of comments that still carry a client hash, and
    the primary key), never every comment on a busy story."""
    same_text = Comment.objects.filter(article_id=comment.article_id, body=comment.body).order_by()
    by_client = same_text.filter(client_hash=client) if client else same_text.none()
    emails = by_client.values_list("email", flat=True)
    if own_ids:
        by_browser = same_text.filter(pk__in=list(own_ids)).values_list("email", flat=True)
        emails = emails.union(by_browser).order_by()
    return emails


def post_comment(*, comment, client, own_ids=(), notify_replies=False):
    """Check, decide and save a reader's comment built by the form; tell moderators if it waits.

    `client` is client_hash(request); `own_ids` the ids of the comments the posting browser
    wrote, from its signed cookie (cookies.own_ids), its only proof of identity.
    `notify_replies`: the box "Email me when someone replies" was ticked (reply_emails.watch).
    """
    if not comments_open(comment.article):
        raise CommentsClosed
    with transaction.atomic():
        wait_for_clients_other_posts(client)
        if is_duplicate(comment, client, own_ids):
            raise DuplicateComment
        check_rate_limit(client)
        comment.client_hash = client  # before deciding: a client may be banned
        decision = decide(comment, own_ids=own_ids)
        comment.status, comment.status_reason = decision.status, decision.reason
        comment.save()
        if notify_replies:
            reply_emails.watch(comment)
        if comment.is_public:
            reply_emails.replies_approved([comment.pk])
    if comment.status == Comment.Status.PENDING:
        transaction.on_commit(lambda: notify_moderators(comment))
    forget_old_client_hashes()
    return comment


def notify_moderators(comment):
    """Email the moderators that a comment waits, with signed links to approve it or mark it
    spam (email_links.py) and its admin page. Only fixed text goes in the headers; the
    commenter's address goes nowhere in it."""
    if not settings.MODERATOR_EMAILS:
        return
    admin_path = reverse("admin:comments_comment_change", args=[comment.pk])
    message = EmailMessage(
        subject=f"[{settings.SITE_NAME}] A comment is waiting for moderation",
        body=render_to_string(
            "comments/email/pending.txt",
            {
                "comment": comment,
                "admin_url": f"{settings.SITE_URL}{admin_path}",
                "approve_url": email_links.link(comment, "approve"),
                "spam_url": email_links.link(comment, "spam"),
                "link_days": policy("EMAIL_LINK_DAYS"),
            },
        ),
        to=settings.MODERATOR_EMAILS,
    )
    try:
        message.send()
    except (OSError, ValueError) as error:
        logger.warning("Could not email the moderators about comment %s: %s", comment.pk, error)
