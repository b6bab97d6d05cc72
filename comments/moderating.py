"""Moderators' decisions on comments (approve, reject, mark spam, with a check that nobody else
decided since) and staff replies: shared by the admin, its actions and the email links."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from articles.models import display_name
from newsroom import dates

from . import reply_emails
from .caching import announce_threads
from .models import Comment
from .refusals import CannotReply
from .text import check_reply
from .threads import reply_target


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
            dates.shown(comment.moderated_at, "SHORT_DATETIME_FORMAT")
            if comment.moderated_at
            else "an unknown time"
        )
        wanted = Comment.Status(self.wanted).label.lower()
        if comment.edited_since_decided:
            edited = dates.shown(comment.edited_at, "SHORT_DATETIME_FORMAT")
            return (
                f"“{comment.excerpt}” was not marked {wanted}: since you saw it, its author "
                f"edited it at {edited} (it is {comment.get_status_display().lower()}). "
                "Read it again before deciding."
            )
        return (
            f"“{comment.excerpt}” was not marked {wanted}: "
            f"since you saw it, {who} made it {comment.get_status_display().lower()} at {when}."
        )


@dataclass(frozen=True)
class Decided:
    """What set_status did: `changed`, the ids of the comments it moved; `refused`, a Refused
    for each comment whose moderation changed since the moderator saw it."""

    changed: list = field(default_factory=list)
    refused: list = field(default_factory=list)


def set_status(comments, *, status, by, seen=None, reason=None):
    """Move comments to a status, noting who did it and when; returns a Decided.

    `seen`: {comment id: the moderation_stamp the moderator saw}. A comment whose stamp is no
    longer that (another moderator decided it meanwhile) is left as it is and reported in
    `refused`; the check and the change happen under a row lock, so of two moderators deciding
    at the same moment the second is refused. Comments without a stamp in `seen` are decided
    whatever their state (a bulk action over every page of a filtered list). Give stamps only
    for the comments the moderator chose: every stamp in `seen` is checked.

    `by` is the User deciding, or None for a decision made through a signed link (no session);
    `reason` replaces the recorded "approved by NAME" when given."""
    label = Comment.Status(status).label.lower()
    reason = reason or f"{label} by {by.get_username() if by else 'the site'}"
    seen = seen or {}
    with transaction.atomic():
        refused = []
        if seen:
            locked = Comment.objects.select_for_update().filter(pk__in=list(seen))
            stale = [
                c.pk
                for c in locked.only("status", "moderated_at", "edited_at")
                if seen[c.pk] != c.moderation_stamp
            ]
            if stale:
                now = Comment.objects.filter(pk__in=stale).select_related("moderated_by")
                refused = [Refused(comment, status) for comment in now.order_by("pk")]
                comments = comments.exclude(pk__in=stale)
        changing = comments.exclude(status=status)
        # Only comments that become, or stop being, public change a page.
        seen_on_pages = changing if Comment.status_is_public(status) else changing.public()
        announce_threads(seen_on_pages.values_list("article_id", flat=True))  # after the commit
        changed = list(changing.values_list("pk", flat=True))
        Comment.objects.filter(pk__in=changed).update(
            status=status,
            status_reason=reason[:120],
            moderated_by=by,
            moderated_at=timezone.now(),
        )
        if Comment.status_is_public(status):
            reply_emails.replies_approved(changed)  # queued in this transaction
    return Decided(changed=changed, refused=refused)


def approve(comments, *, by, seen=None):
    return set_status(comments, status=Comment.Status.APPROVED, by=by, seen=seen)


def reject(comments, *, by, seen=None):
    return set_status(comments, status=Comment.Status.REJECTED, by=by, seen=seen)


def mark_spam(comments, *, by, seen=None):
    return set_status(comments, status=Comment.Status.SPAM, by=by, seen=seen)


def staff_reply(*, parent, body, by):
    """An approved reply from a member of staff, under `parent`; returns the new Comment.

    Raises CannotReply when `parent` is not public: a held comment is never approved as a side
    effect of answering it (that is `approve_and_reply`, a decision of its own); and when the
    body breaks the rule for text (comments/text.py: empty, nothing visible, control or
    disguising characters)."""
    try:
        body = check_reply(body)
    except ValidationError as error:
        raise CannotReply(error.messages[0]) from error
    if not body:
        raise CannotReply("Write your reply.")
    if parent.status in (Comment.Status.REJECTED, Comment.Status.SPAM):
        raise CannotReply("You cannot reply to a rejected or spam comment: approve it first.")
    if parent.status == Comment.Status.PENDING:
        raise CannotReply(
            "This comment is held: use “Approve and reply” to publish it with your reply, "
            "or approve it first."
        )
    now = timezone.now()
    with transaction.atomic():
        reply = Comment.objects.create(
            article_id=parent.article_id,
            parent=reply_target(parent),
            name=display_name(by),
            body=body,
            status=Comment.Status.APPROVED,
            status_reason=f"staff reply by {by.get_username()}",
            is_staff_reply=True,
            user=by,
            moderated_by=by,
            moderated_at=now,
        )
        reply_emails.replies_approved([reply.pk])
    return reply


def approve_and_reply(*, parent, body, by, seen=None):
    """Approve `parent` and publish a staff reply to it, in one transaction; returns
    (Decided, the reply or None). `seen` is the parent's moderation_stamp as the moderator saw
    it: when someone else decided the comment since, nothing is approved or published and the
    Decided carries the refusal."""
    with transaction.atomic():
        decided = approve(
            Comment.objects.filter(pk=parent.pk), by=by, seen={parent.pk: seen} if seen else None
        )
        if decided.refused:
            return decided, None
        parent.refresh_from_db()
        return decided, staff_reply(parent=parent, body=body, by=by)
