"""A commenter edits their own comment: for EDIT_MINUTES after posting it (comments/policy.py),
from the browser that posted it (its signed cookie, comments/cookies.py: never the email), and
until someone replies. The edited text goes through the readers' text rule and the same
moderation rules as a new comment (moderation.decide), so an approved comment can go back to
waiting; the body HTML is stored again, the story's pages are purged (comments/caching.py
announces it when the comment is or was public), and the comment shows "edited".

The edit page is built for its author alone (never cached); public pages never show an edit
link: the author's own page of the story lists what they can still edit (`editable_on`).
"""

import logging
import math
from datetime import timedelta

from django import forms
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import reply_emails
from .forms import BODY_MAX, BODY_MIN, clean_comment_body
from .models import BANNED_REASON, Comment
from .moderation import comments_open, decide
from .policy import policy
from .posting import notify_moderators

logger = logging.getLogger(__name__)


class CannotEdit(Exception):
    """An edit the site refuses, with a message for the reader and the HTTP status to answer."""

    status = 403
    retry_after = None  # seconds, for a 429

    def __init__(self, message, *, status=None, retry_after=None):
        super().__init__(message)
        if status is not None:
            self.status = status
        self.retry_after = retry_after


NOT_YOURS = (
    "This comment can only be edited from the browser that posted it, and this browser did "
    "not post it."
)
GONE = "This comment is no longer available."
CLOSED = "Comments on this story are closed, so this comment can no longer be edited."
REPLIED = "Someone has replied to this comment, so it can no longer be edited."
EDITING_OFF = "Comments cannot be edited on this site."


def window():
    """How long after posting a comment may be edited (a timedelta), or None when editing is off
    (EDIT_MINUTES 0 or None)."""
    minutes = policy("EDIT_MINUTES")
    return timedelta(minutes=minutes) if minutes else None


def edit_until(comment):
    """The moment after which `comment` can no longer be edited (None when editing is off)."""
    span = window()
    return comment.created_at + span if span else None


# Statuses an author may still edit: public, waiting, or a banned commenter's (who is never told,
# so it must behave like a waiting comment, see Comment.looks_held_to_author).
EDITABLE = Q(status__in=[Comment.Status.APPROVED, Comment.Status.PENDING]) | Q(
    status=Comment.Status.SPAM, status_reason=BANNED_REASON
)
# Replies that end the editing: any that was not thrown out.
ANSWERING = Q(status__in=[Comment.Status.APPROVED, Comment.Status.PENDING])


def has_replies(comment):
    return comment.replies.filter(ANSWERING).exists()


def check_editable(comment, own_ids, *, pk=None, now=None):
    """Raise CannotEdit unless the browser with `own_ids` (cookies.own_ids) may edit `comment`
    now: its own, still public or waiting, within the window, the story still open, no reply.
    `comment` is None when comment `pk` does not exist (any more)."""
    span = window()
    if span is None:
        raise CannotEdit(EDITING_OFF, status=404)
    # Another browser learns nothing, not even whether the comment exists; its author is told
    # when it is gone.
    if (comment.pk if comment else pk) not in set(own_ids or ()):
        raise CannotEdit(NOT_YOURS)
    if comment is None:
        raise CannotEdit(GONE, status=404)
    if not (comment.is_public or comment.looks_held_to_author):
        raise CannotEdit(GONE, status=404)
    if (now or timezone.now()) > comment.created_at + span:
        minutes = policy("EDIT_MINUTES")
        raise CannotEdit(
            f"A comment can be edited for {minutes} minute{'s' if minutes != 1 else ''} after "
            "it is posted, and that time has passed."
        )
    if not comments_open(comment.article):
        raise CannotEdit(CLOSED)
    if has_replies(comment):
        raise CannotEdit(REPLIED, status=409)


def check_edit_rate(comment, *, now=None):
    """Raise CannotEdit (429, with retry_after) when the comment was edited less than the
    shortest rate-limit window ago (COMMENTS["RATE_LIMITS"], 15 s by default): each edit that
    waits emails the moderators, so edits come no faster than comments."""
    if not comment.edited_at:
        return
    gap = min(window for _, window in policy("RATE_LIMITS"))
    waited = ((now or timezone.now()) - comment.edited_at).total_seconds()
    if waited < gap:
        wait = max(1, math.ceil(gap - waited))
        raise CannotEdit(
            f"You are editing faster than we allow. Please wait {wait} "
            f"second{'s' if wait != 1 else ''} and save your changes again.",
            status=429,
            retry_after=wait,
        )


def editable_on(article, own_ids):
    """This browser's comments on `article` it may still edit (a list, oldest first), for its
    own page of the story: one query, none without own ids."""
    span = window()
    if not own_ids or span is None or not comments_open(article):
        return []
    replied = Comment.objects.filter(parent=OuterRef("pk")).filter(ANSWERING)
    comments = list(
        Comment.objects.filter(EDITABLE, article=article, pk__in=list(own_ids))
        .filter(created_at__gte=timezone.now() - span)
        .exclude(Exists(replied))
        .only("pk", "article_id", "body", "created_at", "status", "status_reason")
    )
    for comment in comments:
        comment.edit_until = comment.created_at + span
    return comments


class EditForm(forms.Form):
    """The edited text of a comment: the same rule as the comment form's body."""

    body = forms.CharField(
        label="Your comment",
        widget=forms.Textarea(attrs={"rows": 8, "minlength": BODY_MIN, "maxlength": BODY_MAX}),
        strip=False,
        error_messages={"required": "Write your comment."},
    )

    def clean_body(self):
        return clean_comment_body(self.cleaned_data["body"])


def edit_comment(comment_id, *, body, own_ids):
    """Replace the body of comment `comment_id` with `body` (already cleaned by EditForm) for the
    browser whose cookie holds `own_ids`; returns the saved Comment.

    The rules are checked again under a row lock (a reply or the window's end may have come
    while the reader typed), and edits come no faster than comments (check_edit_rate): raises
    CannotEdit. The same moderation rules as a new comment then
    decide its status again; one that stops being approved makes its story's pages change
    (caching.py announces it) and the moderators are emailed as for a new waiting comment."""
    with transaction.atomic():
        comment = (
            Comment.objects.select_for_update(of=("self",))
            .select_related("article")
            .filter(pk=comment_id)
            .first()
        )
        check_editable(comment, own_ids, pk=comment_id)
        if body == comment.body:
            return comment
        check_edit_rate(comment)
        was = comment.status
        comment.body = body
        comment.edited_at = timezone.now()
        decision = decide(comment, own_ids=own_ids)
        comment.status = decision.status
        comment.status_reason = f"{decision.reason} (after an edit)"[:120]
        # save() stores the body's HTML again, and the pre/post-save signals purge the story's
        # pages when the comment is or was public.
        comment.save(update_fields=["body", "edited_at", "status", "status_reason"])
        if comment.is_public and not Comment.status_is_public(was):
            reply_emails.replies_approved([comment.pk])  # a held reply the rules now approve
        if comment.status == Comment.Status.PENDING:
            # A new text to decide on (an earlier email's links no longer act: the stamp moved).
            transaction.on_commit(lambda: notify_moderators(comment))
    # The audit trail of readers' changes: the admin's log needs a staff user, so a log line
    # (never the address) records who changed what.
    logger.info(
        "Comment %s edited by its author: %s -> %s (%s)",
        comment.pk,
        was,
        comment.status,
        decision.reason,
    )
    return comment
