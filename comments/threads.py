"""Approved comments as threads: one page of thread starts and their replies, a fixed number of
queries however many comments there are (one per level of depth)."""

from dataclasses import dataclass, field

from django.core.paginator import Paginator

from .models import Comment
from .policy import policy

PAGE_PARAM = "cpage"


@dataclass
class Node:
    comment: Comment
    depth: int
    children: list = field(default_factory=list)


def thread_pages(article, count=None):
    """The pages of an article's thread starts (asking for one costs a count query, unless
    `count`, the number of thread starts, is given)."""
    on_article = Comment.objects.filter(article=article).for_display()
    pages = Paginator(on_article.thread_starts(), policy("THREADS_PER_PAGE"))
    if count is not None:
        pages.count = count  # Paginator.count is a cached property: this is its answer
    return pages


def thread_page(article, page_number):
    """(page, nodes): one page of thread starts with their replies nested, oldest first."""
    page = thread_pages(article).get_page(page_number)
    return page, nested(article, page)


def nested(article, page):
    """The page's thread starts with their replies nested under them."""
    on_article = Comment.objects.filter(article=article).for_display()
    nodes = [Node(comment, 1) for comment in page.object_list]
    level = {node.comment.pk: node for node in nodes}
    for depth in range(2, policy("MAX_DEPTH") + 1):
        if not level:
            break
        replies = on_article.public().filter(parent_id__in=list(level))
        next_level = {}
        for reply in replies:
            node = Node(reply, depth)
            level[reply.parent_id].children.append(node)
            next_level[reply.pk] = node
        level = next_level
    return nodes


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
