"""The HTML of approved comments, built with format_html instead of templates.

A story's threads can hold hundreds of comments, and Django's template engine spent about
0.7 ms on each (includes, lookups, two date filters): most of an uncached article page. These
functions write the same markup, every value escaped by format_html, in a fraction of that.
The page around them stays in templates (comments/threads.html, comments/section.html).
"""

import hashlib
import re
from html import escape as escape_text
from pathlib import Path

import nh3
from django.utils.html import Urlizer as DjangoUrlizer
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe

from newsroom import dates
from newsroom.caching import renderer_version

LINK_REL = "nofollow ugc noopener"


def _escaped(value):
    """conditional_escape(value) as a plain str: safe HTML as it is, anything else escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape_text(str(value))


def format_html(format_string, *args):
    """django.utils.html.format_html without its lazy-string wrappers (a thousand calls on a
    page of 200 comments, a fifth of their rendering time): the same escaping, the same
    string, tested against Django's."""
    return mark_safe(format_string.format(*map(_escaped, args)))  # noqa: S308 - escaped


def format_html_join(sep, format_string, args_generator):
    """django.utils.html.format_html_join, built on this module's format_html."""
    return mark_safe(  # noqa: S308 - each part escaped by format_html
        sep.join(format_html(format_string, *args) for args in args_generator)
    )


class Urlizer(DjangoUrlizer):
    """Django's urlize without mailto links: an address typed in a comment stays plain text."""

    def handle_word(self, word, *, safe_input, autoescape=False, **kwargs):
        if "@" in word and "://" not in word:
            return escape(word) if autoescape else word
        if not safe_input and "." not in word and ":" not in word:
            # What Django does with a word that cannot be a link, without its lazy wrappers.
            return escape_text(word) if autoescape else word
        return super().handle_word(word, safe_input=safe_input, autoescape=autoescape, **kwargs)


urlize = Urlizer()


# A word (as urlize() splits text: at whitespace, <, >, " and ') holding what urlize() can turn
# into a link (see django.utils.html.Urlizer); anything else only needs escaping.
LINK_WORD = re.compile(
    r"""[^\s<>"']*(?:https?://|www\.|\.(?:com|edu|gov|int|mil|net|org)\b)[^\s<>"']*""",
    re.IGNORECASE,
)


def _linked(text):
    """urlize(text, autoescape=True), with only the words that may hold a link going through
    urlize (it examines every word: a third of a page's rendering time at 200 comments) and
    the text between them escaped in one go. Same result, tested against urlize itself."""
    pieces, done = [], 0
    for word in LINK_WORD.finditer(text):
        pieces += [escape(text[done : word.start()]), urlize(word.group(), autoescape=True)]
        done = word.end()
    pieces.append(escape(text[done:]))
    return "".join(pieces)


def render_body(text):
    """A plain-text comment as HTML (a str): escaped, paragraphs and line breaks kept, links made
    safe. Stored with the comment when it is saved (newsroom.rendered.StoredBodyHTML)."""
    html = linebreaks(_linked(text), autoescape=False)
    return nh3.clean(
        html,
        tags={"p", "br", "a"},
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel=LINK_REL,
    )


# What rendered a stored comment body: this file and the libraries it calls.
RENDERER = renderer_version(__file__, "django", "nh3")


# What rendered a stored card (comment_card), besides the body's RENDERER: this module, how
# dates are written (newsroom/dates.py and the site's formats) and the initials and avatar
# colour (comments/models.py).
CARD_RENDERER = hashlib.sha256(
    "".join(
        [
            renderer_version(__file__),
            renderer_version(dates.__file__),
            renderer_version(Path(dates.__file__).parent / "formats" / "en" / "formats.py"),
            renderer_version(Path(__file__).with_name("models.py")),
        ]
    ).encode()
).hexdigest()[:16]


def card_version(comment, zone):
    """16 hex digits naming a comment's card (comment_card) as shown in the time zone `zone` (a
    name): the card renderer and everything the card shows. A stored card whose version is not
    this one is stale: the comment changed (also by a queryset update, which no save sees), or
    the renderer did, or the reader's zone differs."""
    shown = (
        CARD_RENDERER,
        RENDERER,  # a new body renderer makes a new card (with the body rendered again)
        zone,
        comment.pk,
        comment.name,
        comment.website,
        comment.is_staff_reply,
        comment.created_at.timestamp(),
        comment.edited_at.timestamp() if comment.edited_at else None,
        comment.body_html,
    )
    return hashlib.blake2b(repr(shown).encode(), digest_size=8).hexdigest()


def comment_meta(comment):
    """Avatar, author (linked to their website when it is http or https), staff badge, and the
    date as a permalink."""
    if comment.safe_website:
        author = format_html(
            '<a href="{}" rel="{}">{}</a>', comment.safe_website, LINK_REL, comment.name
        )
    else:
        author = comment.name
    return format_html(
        '<header class="comment-meta">\n'
        '  <span class="avatar avatar-{}" aria-hidden="true">{}</span>\n'
        '  <span class="comment-author" id="c{}-author" dir="auto">{}</span>\n'
        "  {}\n"
        '  <a class="comment-permalink" href="#c{}">{}'
        '<span class="visually-hidden"> (link to this comment)</span></a>{}\n'
        "</header>",
        comment.avatar_colour,
        comment.initials,
        comment.pk,
        author,
        mark_safe('<span class="comment-badge">Staff</span>') if comment.is_staff_reply else "",
        comment.pk,
        dates.time_element(comment.created_at, "DATETIME_FORMAT"),
        edited_mark(comment),
    )


def edited_mark(comment):
    """ " · edited" after the date of a comment its author edited (comments/editing.py), with
    when; "" for one never edited."""
    if not getattr(comment, "edited_at", None):
        return ""
    return format_html(
        ' <span class="comment-edited">· edited {}</span>',
        dates.time_element(comment.edited_at, "DATETIME_FORMAT"),
    )


def comment_card(comment, body_html):
    """A comment's header and body: the same wherever and whenever it is shown in one time zone
    (stored with the comment: Comment.render_card). `body_html`: its body's HTML, safe."""
    return format_html(
        '{}\n    <div class="comment-body" dir="auto">{}</div>', comment_meta(comment), body_html
    )


def pending_card(comment):
    """The card its author sees of their own comment that waits: marked "Your comment is
    awaiting moderation". Built for that reader alone, never kept."""
    return format_html(
        '{}\n    <p class="comment-awaiting">Your comment is awaiting moderation.</p>'
        '\n    <div class="comment-body" dir="auto">{}</div>',
        comment_meta(comment),
        mark_safe(render_body(comment.body)),  # noqa: S308 - sanitised by nh3 there
    )


def thread_items(nodes, *, reply_prefix, is_open, max_depth):
    """The <li> of each node in `nodes` (display.Node, cards attached by display.with_cards or
    display.merge_waiting), replies nested, with a Reply link that works without JavaScript
    where replies are still allowed (`reply_prefix`: the page's address ending in "?" or "&",
    to which "replyto=ID" is added). A waiting comment gets no Reply link."""

    # Written with f-strings: 200 comments make a thousand values, each escaped here as
    # format_html would (the card is safe HTML, the numbers need none).
    prefix = escape_text(str(reply_prefix))

    def item(node):
        comment = node.comment
        pk = int(comment.pk)
        if is_open and node.depth < max_depth and not node.pending:
            name = escape_text(comment.name)
            reply = (
                '\n    <p class="comment-actions"><a class="comment-reply" rel="nofollow" '
                f'href="{prefix}replyto={pk}#respond" data-reply-to="{pk}" '
                f'data-reply-name="{name}">Reply<span class="visually-hidden"> to {name}</span>'
                "</a></p>"
            )
        else:
            reply = ""
        children = (
            f'\n  <ol class="comment-children">\n{items(node.children)}\n  </ol>'
            if node.children
            else ""
        )
        classes = (" comment-staff" if comment.is_staff_reply else "") + (
            " comment-pending" if node.pending else ""
        )
        return (
            f'<li class="comment{classes}" id="c{pk}">\n'
            f'  <article class="comment-card" aria-labelledby="c{pk}-author">\n'
            f"    {_escaped(comment.card_html)}{reply}\n"
            f"  </article>{children}\n"
            "</li>"
        )

    def items(level):
        return "\n".join(map(item, level))

    return mark_safe(items(nodes))  # noqa: S308 - every value escaped above
