"""Where a reply goes in a thread (used by posting, staff replies and the WordPress import).
Which threads and pages readers see is comments/display.py's."""

from .models import Comment
from .policy import policy


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
