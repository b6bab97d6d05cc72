"""The comment writes that views, admin actions and commands share, by topic: posting.py,
moderating.py, throttling.py, privacy.py (refusals.py: what is refused). This module only
re-exports their public names, so `from comments import services` keeps working."""

from .moderating import (
    Decided,
    Refused,
    approve,
    approve_and_reply,
    mark_spam,
    reject,
    set_status,
    staff_reply,
)
from .posting import is_duplicate, notify_moderators, post_comment
from .privacy import (
    comments_by_emails,
    delete_comments,
    erase_commenter_data,
    export_commenter_data,
)
from .refusals import CannotReply, CommentRefused, CommentsClosed, DuplicateComment, RateLimited
from .threads import reply_target
from .throttling import (
    RATE_LOCK_SPACE,
    check_rate_limit,
    client_hash,
    forget_old_client_hashes,
    wait_for_clients_other_posts,
)

__all__ = [
    "RATE_LOCK_SPACE",
    "CannotReply",
    "CommentRefused",
    "CommentsClosed",
    "Decided",
    "DuplicateComment",
    "RateLimited",
    "Refused",
    "approve",
    "approve_and_reply",
    "check_rate_limit",
    "client_hash",
    "comments_by_emails",
    "delete_comments",
    "erase_commenter_data",
    "export_commenter_data",
    "forget_old_client_hashes",
    "is_duplicate",
    "mark_spam",
    "notify_moderators",
    "post_comment",
    "reject",
    "reply_target",
    "set_status",
    "staff_reply",
    "wait_for_clients_other_posts",
]
