"""The HTML of approved comments, built with format_html instead of templates.

A story's threads can hold hundreds of comments, and Django's template engine spent about
0.7 ms on each (includes, lookups, two date filters): most of an uncached article page. These
functions write the same markup, every value escaped by format_html, in a fraction of that.
The page around them stays in templates (comments/threads.html, comments/pending.html).
"""

from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

LINK_REL = "nofollow ugc noopener"


def dates(moment):
    """(machine, shown): `moment` in the site's time zone as the date filters "Y-m-d\\TH:i:sO"
    and "j F Y, H:i" write it, without their per-character formatting machinery."""
    local = timezone.localtime(moment)
    offset = int(local.utcoffset().total_seconds())
    sign, offset = "-" if offset < 0 else "+", abs(offset)
    machine = f"{local:%Y-%m-%dT%H:%M:%S}{sign}{offset // 3600:02d}{offset // 60 % 60:02d}"
    return machine, f"{local.day} {MONTHS[local.month]} {local.year}, {local:%H:%M}"


def comment_meta(comment):
    """Avatar, author (linked to their website when it is http or https), staff badge, and the
    date as a permalink."""
    if comment.safe_website:
        author = format_html(
            '<a href="{}" rel="{}">{}</a>', comment.safe_website, LINK_REL, comment.name
        )
    else:
        author = comment.name
    machine_date, shown_date = dates(comment.created_at)
    return format_html(
        '<header class="comment-meta">\n'
        '  <span class="avatar avatar-{}" aria-hidden="true">{}</span>\n'
        '  <span class="comment-author" id="c{}-author">{}</span>\n'
        "  {}\n"
        '  <a class="comment-permalink" href="#c{}"><time datetime="{}">{}</time>'
        '<span class="visually-hidden"> (link to this comment)</span></a>\n'
        "</header>",
        comment.avatar_colour,
        comment.initials,
        comment.pk,
        author,
        mark_safe('<span class="comment-badge">Staff</span>') if comment.is_staff_reply else "",
        comment.pk,
        machine_date,
        shown_date,
    )


def comment_card(comment, body_html):
    """A comment's header and body: the same wherever and whenever it is shown (kept with the
    other cards of its page, see comment_tags.with_cards). `body_html` is the comment_body
    filter's output."""
    return format_html(
        '{}\n    <div class="comment-body">{}</div>', comment_meta(comment), body_html
    )


def thread_items(nodes, *, article_url, page_number, page_param, is_open, max_depth):
    """The <li> of each node in `nodes` (threads.Node, cards attached by with_cards), replies
    nested, with a Reply link that works without JavaScript where replies are still allowed."""
    reply_prefix = f"{article_url}?"
    if page_number > 1:
        reply_prefix += f"{page_param}={page_number}&"

    def item(node):
        comment = node.comment
        if is_open and node.depth < max_depth:
            reply = format_html(
                '\n    <p class="comment-actions"><a class="comment-reply" rel="nofollow" '
                'href="{}replyto={}#respond" data-reply-to="{}" data-reply-name="{}">Reply'
                '<span class="visually-hidden"> to {}</span></a></p>',
                reply_prefix,
                comment.pk,
                comment.pk,
                comment.name,
                comment.name,
            )
        else:
            reply = ""
        children = (
            format_html('\n  <ol class="comment-children">\n{}\n  </ol>', items(node.children))
            if node.children
            else ""
        )
        return format_html(
            '<li class="comment{}" id="c{}">\n'
            '  <article class="comment-card" aria-labelledby="c{}-author">\n'
            "    {}{}\n"
            "  </article>{}\n"
            "</li>",
            " comment-staff" if comment.is_staff_reply else "",
            comment.pk,
            comment.pk,
            comment.card_html,
            reply,
            children,
        )

    def items(level):
        return format_html_join("\n", "{}", ((item(node),) for node in level))

    return items(nodes)
