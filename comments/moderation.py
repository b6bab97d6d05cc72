"""The comment policy in one place: when comments close and what status a new comment gets
(bans included).

Every knob lives in `settings.COMMENTS` (see newsroom/settings.py); `decide()` runs the rules in
order and the first one that matches sets the status and records why. Each rule is
`rule(comment, own_ids) -> Decision | None`.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .models import BANNED_REASON, Ban, Comment
from .policy import DEFAULTS, policy  # noqa: F401 - re-exported: the rules' knobs

LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str


def comments_open(article, *, once_published=False):
    """Whether readers may comment: the per-story switch, then the age limit. With
    `once_published`, whether they will when the story is published (its preview): a story
    without a publish time would get the current one."""
    if article.comments_closed or not (once_published or article.is_published):
        return False
    days = policy("CLOSE_AFTER_DAYS")
    published_at = article.published_at or timezone.now()
    return days is None or published_at > timezone.now() - timedelta(days=days)


def blocklisted_word(comment):
    text = " ".join([comment.name, comment.website, comment.body]).casefold()
    for word in policy("BLOCKLIST"):
        if re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", text):
            return word
    return None


def count_links(text):
    return len(LINK.findall(text))


def rule_banned(comment, own_ids):
    """A banned address or client (comments.Ban): spam, and never said so. The author sees the
    comment as held, like any other (Comment.looks_held_to_author); moderators are not emailed.
    `comment.client_hash` must be set (posting.post_comment sets it before deciding)."""
    if Ban.objects.active().matching(email=comment.email, client=comment.client_hash).exists():
        return Decision(Comment.Status.SPAM, BANNED_REASON)
    return None


def rule_blocklist(comment, own_ids):
    if blocklisted_word(comment):
        return Decision(Comment.Status.SPAM, "spam: blocklist")
    return None


def rule_links(comment, own_ids):
    links = count_links(comment.body)
    limit = policy("HOLD_AT_LINKS")
    if limit and links >= limit:
        return Decision(Comment.Status.PENDING, f"held: {links} links")
    return None


def rule_returning_author(comment, own_ids):
    """Approve at once a browser that proves it wrote an approved comment under this name and
    address: `own_ids` are the comment ids its signed cookie holds (comments/cookies.py), which
    only that browser can present. A typed name and address prove nothing (a regular's name is
    public and an address can be guessed), so they are looked up only beside such proof: nothing
    a poster sees depends on whether an address they typed is known."""
    if not (policy("APPROVE_KNOWN_EMAILS") and comment.email and own_ids):
        return None
    if (
        Comment.objects.public()
        .filter(pk__in=list(own_ids), email__iexact=comment.email, name__iexact=comment.name)
        .exists()
    ):
        return Decision(Comment.Status.APPROVED, "approved: returning commenter")
    return None


RULES = [rule_banned, rule_blocklist, rule_links, rule_returning_author]


def decide(comment, *, own_ids=()):
    """The status a reader's new comment starts with, and the rule that chose it.

    `own_ids`: ids of the comments this browser wrote, from its signed cookie (empty for a
    browser without one); the only proof of identity a rule may rely on.
    """
    for rule in RULES:
        decision = rule(comment, own_ids)
        if decision:
            return decision
    return Decision(Comment.Status.PENDING, "held: new commenter")
