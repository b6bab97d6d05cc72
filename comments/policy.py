"""The comments settings: every knob in `settings.COMMENTS`, with its default (see
newsroom/settings.py). Imports no model, so models, threads and the moderation rules can all read
it."""

from django.conf import settings

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
    "EMAIL_LINK_DAYS": 7,
    # Readers' comments, thread starts "oldest" or "newest" first (a reader picks the other
    # with ?corder=, see comments/display.py).
    "ORDER": "oldest",
    "EDIT_MINUTES": 15,
    "REPLY_CONFIRM_DAYS": 7,
    "REPLY_CONFIRM_RESEND_HOURS": 24,
}


def policy(name):
    """One comments setting, with its default."""
    return getattr(settings, "COMMENTS", {}).get(name, DEFAULTS[name])
