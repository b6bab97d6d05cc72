"""How readers see comments: which threads and which page of them, in which order, their cards,
and the author's own waiting comments merged in where they belong. The template tags
(comments/templatetags/comment_tags.py) only call this module; the HTML of cards and threads is
built in comments/rendering.py.

Public threads are the same for every reader and kept as a shared fragment per story, page,
order and open/closed state. A reader whose signed cookie names comments of theirs that wait
gets their page built for them alone: the same threads with their waiting comments in place (a
reply under the comment it answers), never kept by any cache.

Order: oldest or newest first (thread starts; replies within a thread always read oldest
first). The site default is policy("ORDER"); a reader picks the other with ?corder=newest. The
order is in the address, not a cookie, so each order's page is kept like any public page.
"""

from dataclasses import dataclass, field
from functools import partial

from django.core.paginator import Paginator
from django.db.models import DEFERRED, F, TextField
from django.db.models.fields.files import FieldFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from newsroom import caching

from . import cookies, editing, rendering
from .caching import thread_tag
from .forms import CommentForm, blank_form_html
from .models import Comment
from .moderation import comments_open
from .policy import policy

PAGE_PARAM = "cpage"
ORDER_PARAM = "corder"
OLDEST, NEWEST = "oldest", "newest"
ORDERS = (OLDEST, NEWEST)

# Cards and bodies, for templates.
comment_meta = rendering.comment_meta


def comment_body(text):
    """A plain-text comment as HTML (see rendering.render_body)."""
    return mark_safe(rendering.render_body(text))  # noqa: S308 - sanitised by nh3 there


# --- Order and addresses -----------------------------------------------------------------------


def default_order():
    """The site's order (policy "ORDER"), "oldest" when the setting holds anything else."""
    value = policy("ORDER")
    return value if value in ORDERS else OLDEST


def order_from(value):
    """The order a ?corder= value asks for; the site default for a missing or unknown one."""
    return value if value in ORDERS else default_order()


def query(*, order, page=1, **extra):
    """The query string (with its "?", "" when empty) of a comments address: the order when it
    is not the default, the page when it is not the first, then `extra` (name: value)."""
    parts = []
    if order != default_order():
        parts.append(f"{ORDER_PARAM}={order}")
    if page > 1:
        parts.append(f"{PAGE_PARAM}={page}")
    parts += [f"{name}={value}" for name, value in extra.items()]
    return "?" + "&".join(parts) if parts else ""


def with_more(address):
    """`address` ready for one more query parameter: followed by "&" or "?"."""
    return f"{address}&" if "?" in address else f"{address}?"


def location(comment, order=None):
    """Where `comment` is shown: its story's address with the page of comments that shows its
    thread in `order` (the default when None), and its #c<id> anchor (a str)."""
    order = order_from(order)
    url = comment.article.get_absolute_url()
    return f"{url}{query(order=order, page=comment.thread_page(order))}#c{comment.pk}"


def feed_url(article, kind="rss"):
    """The address of a story's feed of public comments: "rss" (RSS 2.0) or "atom"."""
    name = "comments:feed-atom" if kind == "atom" else "comments:feed"
    return reverse(name, kwargs={"slug": article.slug})


# --- Threads -----------------------------------------------------------------------------------


class Shown:
    """What a page of threads reads of a public comment (THREAD_FIELDS, as attributes): read
    as plain rows, which costs half what model instances do on a page of 200 comments. Its
    card is the stored one (Comment.card_html, checked by with_cards)."""

    FIELDS = (
        "pk",
        "parent_id",
        "name",
        "website",
        "is_staff_reply",
        "created_at",
        "edited_at",
        "body_html",
        "card_html",
        "card_rendered_with",
    )
    __slots__ = FIELDS

    def __init__(self, values):
        for name, value in zip(self.FIELDS, values, strict=True):
            setattr(self, name, value)


@dataclass
class Node:
    """A comment in a thread (a Shown, or a Comment of its author's that waits), at `depth`
    (1 for a thread start); `pending`: shown to its author as awaiting moderation."""

    comment: Shown | Comment
    depth: int
    children: list = field(default_factory=list)
    pending: bool = False


def thread_pages(article, order=OLDEST, count=None):
    """The pages of an article's thread starts in `order`, as rows of Shown.FIELDS (asking for
    one costs a count query, unless `count`, the number of thread starts, is given)."""
    on_article = Comment.objects.filter(article=article).thread_starts()
    if order == NEWEST:
        on_article = on_article.order_by("-created_at", "-pk")
    pages = Paginator(on_article.values_list(*Shown.FIELDS), policy("THREADS_PER_PAGE"))
    if count is not None:
        pages.count = count  # Paginator.count is a cached property: this is its answer
    return pages


def nested(article, page, public_count=None):
    """The page's thread starts with their public replies nested under them, oldest first, as
    Nodes of Shown (one query per level of depth). `public_count`, the story's number of public
    comments, if given, ends the reading early on a story with one page of threads: once that
    many are read there is nothing more to show (a story without replies: one query)."""
    public = Comment.objects.filter(article=article).public()
    nodes = [Node(Shown(values), 1) for values in page.object_list]
    level = {node.comment.pk: node for node in nodes}
    unread = None
    if public_count is not None and page.paginator.num_pages == 1:
        unread = public_count - len(nodes)
    for depth in range(2, policy("MAX_DEPTH") + 1):
        if not level or unread == 0:
            break
        replies = public.filter(parent_id__in=list(level)).values_list(*Shown.FIELDS)
        next_level = {}
        for values in replies:
            node = Node(Shown(values), depth)
            level[node.comment.parent_id].children.append(node)
            next_level[node.comment.pk] = node
        level = next_level
        if unread is not None:
            unread -= len(next_level)
    return nodes


def _comments(nodes):
    for node in nodes:
        yield node.comment
        yield from _comments(node.children)


def _nodes(nodes):
    for node in nodes:
        yield node
        yield from _nodes(node.children)


def with_cards(nodes):
    """Give each public comment in the threads its card (header and body HTML), as stored with
    it (Comment.card_html). Stale ones (renderer, comment or time zone changed: see
    rendering.card_version) are read whole and rendered again, and stored when they are for the
    site's zone."""
    zone = timezone.get_current_timezone_name()
    stale = {}
    for shown in _comments(nodes):
        if shown.card_rendered_with != rendering.card_version(shown, zone):
            stale[shown.pk] = shown
        shown.card_html = SafeString(shown.card_html)  # built by format_html, escaped there
    if stale:
        comments = list(Comment.objects.for_display().filter(pk__in=list(stale)))
        for comment in comments:
            comment.render_card()
            stale[comment.pk].card_html = SafeString(comment.card_html)
        if zone == timezone.get_default_timezone_name():
            Comment.objects.bulk_update(
                comments, ["body_html", "body_rendered_with", "card_html", "card_rendered_with"]
            )
    return nodes


def page_number(article, asked):
    """The page of threads Paginator.get_page(asked) would show (junk: the first, a number past
    either end: the last), so each page is kept once however it is asked for. The number of
    pages (the same in either order) is kept like the threads."""
    try:
        number = int(asked)
    except (TypeError, ValueError):
        return 1
    pages = caching.remember(
        ("comment-pages", article.pk),
        lambda: thread_pages(article).num_pages,
        tags=[thread_tag(article.pk)],
    )
    return number if 1 <= number <= pages else pages


def own_waiting(request, article):
    """This browser's own comments on `article` that wait (comments.cookies), oldest first, each
    with `parent_public` (whether it answers a public comment); [] without the cookie (no
    query)."""
    own_ids = cookies.own_ids(request)
    if not own_ids:
        return []
    return list(
        Comment.objects.for_author(own_ids)
        .filter(article=article)
        .for_display()
        .annotate(parent_status=F("parent__status"))
        .order_by("created_at", "pk")
    )


def merge_waiting(nodes, waiting, page, order):
    """Put the author's waiting comments in the page's threads: a reply under the comment it
    answers when that is on this page; a comment that starts a thread where a new thread goes
    (the last page oldest first, the first page newest first). Returns the top-level nodes."""
    shown = {node.comment.pk: node for node in _nodes(nodes)}
    starts = []
    for comment in waiting:
        comment.card_html = rendering.pending_card(comment)
        parent = shown.get(comment.parent_id)
        if parent is not None:
            node = Node(comment, parent.depth + 1, pending=True)
            parent.children.append(node)
            shown[comment.pk] = node
        elif comment.parent_id is None or not Comment.status_is_public(comment.parent_status):
            starts.append(Node(comment, 1, pending=True))
            shown[comment.pk] = starts[-1]
    if order == NEWEST and page.number == 1:
        return starts[::-1] + nodes
    if order == OLDEST and not page.has_next():
        return nodes + starts
    return nodes


def render_threads(article, *, is_open, number, order, waiting=()):
    """The HTML of one page of threads (comments/threads.html): shared by every reader when
    `waiting` is empty; with one reader's waiting comments merged in otherwise."""
    counts = Comment.objects.filter(article=article).public_counts()
    page = thread_pages(article, order, counts["thread_starts"]).get_page(number)
    nodes = with_cards(nested(article, page, counts["public"]))
    if waiting:
        nodes = merge_waiting(nodes, waiting, page, order)
    url = article.get_absolute_url()
    items = rendering.thread_items(
        nodes,
        reply_prefix=with_more(url + query(order=order, page=page.number)),
        is_open=is_open,
        max_depth=policy("MAX_DEPTH"),
    )
    return render_to_string(
        "comments/threads.html",
        {
            "article": article,
            "count": counts["public"],
            "page_obj": page,
            "page_prefix": f"{with_more(url + query(order=order))}{PAGE_PARAM}=",
            "orders": [
                {"order": each, "url": url + query(order=each), "current": each == order}
                for each in ORDERS
            ],
            "items": items,
        },
    )


def threads_html(request, article, is_open):
    """The threads a request sees: the shared fragment, or its reader's own page when they have
    comments waiting on this story."""
    order = order_from(request.GET.get(ORDER_PARAM))
    number = page_number(article, request.GET.get(PAGE_PARAM))
    waiting = own_waiting(request, article)
    if waiting:
        html = render_threads(article, is_open=is_open, number=number, order=order, waiting=waiting)
        return mark_safe(html)  # noqa: S308 - rendered by the template, escaped there
    return caching.fragment(
        ("comments", article.pk, number, is_open, order),
        lambda: render_threads(article, is_open=is_open, number=number, order=order),
        tags=[thread_tag(article.pk), article.cache_tag],
    )


# --- The section under a story -----------------------------------------------------------------


def reply_parent(request, article):
    """The approved comment named by ?replyto=, the no-JavaScript way to answer a comment."""
    try:
        pk = int(request.GET.get("replyto", ""))
    except ValueError:
        return None
    return (
        Comment.objects.public().filter(article=article, pk=pk).for_display().first()
        if pk > 0
        else None
    )


def render_form(context, article, form, *, blank):
    """The comment form (`form`: a CommentForm, or a function making one for a story, called only
    when the form has to be rendered). A blank one for a browser without a session carries
    nothing of its reader (no CSRF token: cross-site posts are refused by Fetch Metadata; its
    "shown at" token comes from the script, or from the confirmation step), so everyone shares
    one (rendered once per process: comments.forms.blank_form_html); one with typed values,
    errors, a reply or a session's CSRF token is built for its reader."""
    request = context["request"]
    signed_in = caching.has_session(request)

    def render(story):
        built = form(article=story) if callable(form) else form
        return render_to_string(
            "comments/form.html",
            {
                "request": request,
                "csrf_token": context.get("csrf_token") if signed_in else None,
                "article": story,
                "form": built,
                "replying_to": built.replying_to,
            },
        )

    if blank and not signed_in:
        # The same for every story but for its slug: rendered once per process.
        return mark_safe(blank_form_html(article, render))  # noqa: S308 - as below
    return mark_safe(render(article))  # noqa: S308 - rendered by the template, escaped there


def ordered_form(order, **kwargs):
    """A CommentForm whose post lands, once sent, on the comment in `order` (the blank form,
    shared by every order, gets it from comments.js)."""
    form = CommentForm(**kwargs)
    if order != default_order():
        action, anchor = form.helper.form_action.split("#", 1)
        form.helper.form_action = f"{with_more(action)}{ORDER_PARAM}={order}#{anchor}"
    return form


def section(context, article):
    """The context of comments/section.html, the comments under a story: the threads (with this
    browser's waiting comments in place) and the form."""
    request = context["request"]
    is_open = comments_open(article)
    threads = threads_html(request, article, is_open)
    own_ids = cookies.own_ids(request)
    form, blank = context.get("comment_form"), False
    if form is None and is_open:
        initial = cookies.remembered_author(request)
        initial["remember"] = bool(initial)
        initial["parent"] = reply_parent(request, article)
        blank = not initial["remember"] and initial["parent"] is None
        # Only a form built for one browser may carry that reader's "shown at" token: a public
        # page (a ?replyto= one too) and the blank form (a shared fragment, whoever builds it)
        # are kept for everyone, and their script asks for a token.
        shared = blank and not caching.has_session(request)
        # Made only if the form is rendered: the blank one is usually kept.
        # The shared blank form is for every order (comments.js adds the reader's to it).
        order = default_order() if shared else order_from(request.GET.get(ORDER_PARAM))
        form = partial(
            ordered_form,
            order,
            article=article,
            initial=initial,
            issue_token=caching.is_personal(request) and not shared,
            with_csrf=caching.has_session(request),
        )
    return {
        "article": article,
        "threads": threads,
        # This browser's comments it may still edit (its page is its own: see comments/editing.py).
        "editable": editing.editable_on(article, own_ids),
        "form_html": render_form(context, article, form, blank=blank) if is_open else None,
        "notice": context.get("comment_notice", ""),
    }


SECTION_HOLE = "comments"


def section_html(context, article):
    """The HTML of comments/section.html for `article` (see `section`), a hole of the story's
    page (newsroom.caching.holes): kept pages record it, and a request personal only through
    the comments cookies gets it built by `fill_section`, the rest of the page kept."""

    def build():
        return render_to_string("comments/section.html", section(context, article))

    return mark_safe(caching.punch(SECTION_HOLE, build, lambda: (hole_copy(article),)))  # noqa: S308


def hole_copy(article):
    """`article` as kept with its page to fill the hole again, small enough to be read with
    every such request: its own fields only, without the related objects read with it (a file
    field as its name: a FieldFile would bring its story along) and without long text (left
    deferred: read from the database should the section ever need it)."""
    names, values = [], []
    for model_field in article._meta.concrete_fields:
        value = article.__dict__.get(model_field.attname, DEFERRED)
        if value is DEFERRED or isinstance(model_field, TextField):
            continue
        names.append(model_field.attname)
        values.append(value.name if isinstance(value, FieldFile) else value)
    return type(article).from_db(article._state.db, names, values)


def fill_section(request, article):
    """The comment section for `request` (GET, no session), the hole `section_html` punched."""
    return section_html({"request": request}, article)


def once_published(article):
    """For an editor's preview: whether readers will be able to comment once it is published."""
    return {"will_open": comments_open(article, once_published=True)}
