"""Moderating from the notification email: each waiting comment's email carries a signed,
expiring link per action (approve, mark spam). The link opens a confirmation page (a GET never
changes anything); one POST there acts. The signature is the proof (no sign-in): it names the
comment, the action and the comment's moderation_stamp when the email was sent, so a link
already used, or a comment decided since by anyone, is recognised and refused."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Comment
from .moderating import set_status
from .policy import policy
from .signed_links import LinkRefused, signed_payload

logger = logging.getLogger(__name__)

# action in the URL -> (the status it sets, the button's words, what is said once done,
# the confirmation page's question)
ACTIONS = {
    "approve": (
        Comment.Status.APPROVED,
        "Approve",
        "approved: it is now public",
        "Approve this comment?",
    ),
    "spam": (Comment.Status.SPAM, "Mark as spam", "marked as spam", "Mark this comment as spam?"),
}


def salt(action):
    """One salt per purpose: a token made for one action is forged for any other."""
    return f"comments.email-link.{action}"


def make_token(comment, action):
    """The signed token of `action` ("approve" or "spam") on `comment` as it is now."""
    payload = {"c": comment.pk, "a": action, "s": comment.moderation_stamp}
    return signing.dumps(payload, salt=salt(action), compress=True)


def link(comment, action):
    """The absolute link a moderator's email carries for `action` on `comment`."""
    path = reverse("comments:moderate", args=[action, make_token(comment, action)])
    return f"{settings.SITE_URL}{path}"


@dataclass(frozen=True)
class Request:
    """A valid link, read: the comment, the action and the stamp it was made for."""

    comment: Comment
    action: str
    stamp: str

    @property
    def status(self):
        return ACTIONS[self.action][0]

    @property
    def button(self):
        return ACTIONS[self.action][1]

    @property
    def question(self):
        return ACTIONS[self.action][3]


def read(action, token):
    """The Request a link stands for, or LinkRefused: 404 for an unknown action or a comment
    that no longer exists, 400 for a changed or cut token, 410 once expired (after
    settings.COMMENTS["EMAIL_LINK_DAYS"]), 409 once used or the comment was decided since."""
    if action not in ACTIONS:
        raise LinkRefused(404, "No such link", "This moderation link does not exist.")
    payload = signed_payload(
        token,
        salt=salt(action),
        max_age=policy("EMAIL_LINK_DAYS") * 24 * 3600,
        expired=f"Links in the moderators' email work for {policy('EMAIL_LINK_DAYS')} days. "
        "Decide this comment in the admin instead.",
    )
    if payload.get("a") != action:
        raise LinkRefused(400, "This link is not valid", "The link does not fit this action.")
    comment = (
        Comment.objects.select_related("article", "moderated_by").filter(pk=payload.get("c"))
    ).first()
    if comment is None:
        raise LinkRefused(404, "This comment is gone", "The comment was deleted since.")
    if comment.moderation_stamp != payload.get("s") and comment.edited_since_decided:
        raise LinkRefused(
            409,
            "This comment was edited",
            "Its author edited the comment since this email was sent: the email sent after the "
            "edit (or the admin) has links for the new text. Nothing was changed.",
            comment,
        )
    if comment.moderation_stamp != payload.get("s"):
        raise LinkRefused(
            409,
            "This link was already used",
            f"The comment was decided since the email was sent: it is now "
            f"{comment.get_status_display().lower()}. Nothing was changed.",
            comment,
        )
    return Request(comment=comment, action=action, stamp=payload["s"])


def act(request):
    """Take the decision a valid Request stands for, once; LinkRefused (409) if someone
    decided the comment between the confirmation page and the POST."""
    comment = request.comment
    decided = set_status(
        Comment.objects.filter(pk=comment.pk),
        status=request.status,
        by=None,
        seen={comment.pk: request.stamp},
        reason=f"{Comment.Status(request.status).label.lower()} from the moderators' email",
    )
    if decided.refused:
        raise LinkRefused(
            409,
            "This link was already used",
            f"The comment was decided a moment ago: {decided.refused[0]}",
        )
    logger.info("Comment %s %s from an email link", comment.pk, request.status)
    return ACTIONS[request.action][2]
