"""The comment policy in one place: when comments close and what status a new comment gets.

Every knob lives in `settings.COMMENTS` (see newsroom/settings.py); `decide()` runs the rules in
order and the first one that matches sets the status and records why.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import Comment

DEFAULTS = {
    "CLOSE_AFTER_DAYS": None,
    "APPROVE_KNOWN_EMAILS": True,
    "HOLD_AT_LINKS": 2,
    "BLOCKLIST": [],
    "MIN_SECONDS_TO_TYPE": 3,
    "MIN_SECONDS_TO_CONFIRM": 1,
    "FORM_MAX_AGE_HOURS": 48,
    "RATE_LIMITS": [(1, 15), (20, 3600)],
    "CLIENT_HASH_DAYS": 30,
    "MAX_DEPTH": 3,
    "THREADS_PER_PAGE": 50,
}

LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def policy(name):
    """One comments setting, with its default."""
    return getattr(settings, "COMMENTS", {}).get(name, DEFAULTS[name])


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str


def comments_open(article):
    """Whether readers may comment: the per-story switch, then the age limit."""
    if article.comments_closed or not article.is_published:
        return False
    days = policy("CLOSE_AFTER_DAYS")
    return days is None or article.published_at > timezone.now() - timedelta(days=days)


def blocklisted_word(comment):
    text = " ".join([comment.name, comment.website, comment.body]).casefold()
    for word in policy("BLOCKLIST"):
        if re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", text):
            return word
    return None


def count_links(text):
    return len(LINK.findall(text))


def rule_blocklist(comment):
    if blocklisted_word(comment):
        return Decision(Comment.Status.SPAM, "spam: blocklist")
    return None


def rule_links(comment):
    links = count_links(comment.body)
    limit = policy("HOLD_AT_LINKS")
    if limit and links >= limit:
        return Decision(Comment.Status.PENDING, f"held: {links} links")
    return None


def rule_known_email(comment):
    # Name and email together, as WordPress does: the email alone would let anyone who knows a
    # regular's address skip moderation (and learn that the address has comments here).
    if (
        policy("APPROVE_KNOWN_EMAILS")
        and comment.email
        and Comment.objects.public()
        .filter(email__iexact=comment.email, name__iexact=comment.name)
        .exists()
    ):
        return Decision(Comment.Status.APPROVED, "approved: known commenter")
    return None


RULES = [rule_blocklist, rule_links, rule_known_email]


def decide(comment):
    """The status a reader's new comment starts with, and the rule that chose it."""
    for rule in RULES:
        decision = rule(comment)
        if decision:
            return decision
    return Decision(Comment.Status.PENDING, "held: new commenter")
