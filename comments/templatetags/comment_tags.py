import hashlib
from functools import partial

from django import template
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from comments import cookies, editing, rendering
from comments.caching import thread_tag
from comments.forms import CommentForm, blank_form_html
from comments.models import Comment
from comments.moderation import comments_open, policy
from comments.threads import PAGE_PARAM, nested, thread_pages
from newsroom import caching

register = template.Library()


@register.filter
def comment_meta(comment):
    """A comment's avatar, author and date (see comments.rendering)."""
    return rendering.comment_meta(comment)


@register.filter
def comment_body(text):
    """A plain-text comment as HTML (see comments.rendering.render_body)."""
    return mark_safe(rendering.render_body(text))  # noqa: S308 - sanitised by nh3 there


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


# The release is in the key: new card markup after a deploy is not served old cards.
CARDS_KEY = "comment-cards:" + caching.RELEASE + ":{}:{}"
CARD_SECONDS = 24 * 60 * 60


def _comments(nodes):
    for node in nodes:
        yield node.comment
        yield from _comments(node.children)


def with_cards(nodes, cards_key):
    """Give each comment in the threads its header and body HTML (comment.card_html). The cards
    of one page of threads are kept together under `cards_key`, each under a digest of
    everything it shows, so an edit or another time zone misses; only missing cards are
    rendered, and the page's cards are stored again only when they changed (which also drops
    those of comments no longer shown)."""
    zone = timezone.get_current_timezone_name()
    kept = cache.get(cards_key) or {}
    cards, stale = {}, []
    for comment in _comments(nodes):
        digest = hashlib.sha256(
            repr(
                (
                    comment.pk,
                    comment.name,
                    comment.website,
                    comment.body,
                    comment.is_staff_reply,
                    comment.created_at.isoformat(),
                    comment.edited_at.isoformat() if comment.edited_at else "",
                    zone,
                )
            ).encode()
        ).hexdigest()
        html = kept.get(digest)
        if html is None:
            if comment.body_is_stale:  # rendered by an older release, or before bodies were stored
                comment.render_body()
                stale.append(comment)
            body = mark_safe(comment.body_html)  # noqa: S308 - sanitised by nh3 when stored
            html = str(rendering.comment_card(comment, body))
        cards[digest] = html
        comment.card_html = mark_safe(html)  # noqa: S308 - built by format_html, escaped there
    if cards != kept:
        cache.set(cards_key, cards, CARD_SECONDS)
    if stale:
        Comment.objects.bulk_update(stale, ["body_html", "body_rendered_with"])
    return nodes


def thread_page_number(article, asked):
    """The page of threads Paginator.get_page(asked) would show (junk: the first, a number past
    either end: the last), so each page is kept once however it is asked for. The number of
    pages is kept like the threads."""
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


def render_threads(article, is_open, page_number):
    counts = Comment.objects.filter(article=article).public_counts()
    page = thread_pages(article, counts["thread_starts"]).get_page(page_number)
    items = rendering.thread_items(
        with_cards(nested(article, page), CARDS_KEY.format(article.pk, page.number)),
        article_url=article.get_absolute_url(),
        page_number=page.number,
        page_param=PAGE_PARAM,
        is_open=is_open,
        max_depth=policy("MAX_DEPTH"),
    )
    return render_to_string(
        "comments/threads.html",
        {
            "article": article,
            "count": counts["public"],
            "page_obj": page,
            "page_param": PAGE_PARAM,
            "items": items,
        },
    )


def render_form(context, article, form, *, blank):
    """The comment form (`form`: a CommentForm, or a function making one, called only when the
    form has to be rendered). A blank one for a browser without a session carries nothing of
    its reader (no CSRF token: cross-site posts are refused by Fetch Metadata; its "shown at"
    token comes from the script, or from the confirmation step), so everyone shares one
    (rendered once per process: comments.forms.blank_form_html);
    one with typed values, errors, a reply or a session's CSRF token is built for its reader."""
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


@register.inclusion_tag("comments/once_published.html")
def comments_once_published(article):
    """For an editor's preview of a story readers cannot see yet: whether readers will be able
    to comment once it is published (the form is not shown: there is nothing to post to)."""
    return {"will_open": comments_open(article, once_published=True)}


@register.inclusion_tag("comments/section.html", takes_context=True)
def comment_section(context, article):
    """The comments under a story: approved threads, this browser's pending ones, the form."""
    request = context["request"]
    is_open = comments_open(article)
    page_number = thread_page_number(article, request.GET.get(PAGE_PARAM))
    threads = caching.fragment(
        ("comments", article.pk, page_number, is_open),
        lambda: render_threads(article, is_open, page_number),
        tags=[thread_tag(article.pk), article.cache_tag],
    )
    own_ids = cookies.own_ids(request)
    pending = (
        list(Comment.objects.for_author(own_ids).filter(article=article).for_display())
        if own_ids
        else []
    )
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
        form = partial(
            CommentForm,
            article=article,
            initial=initial,
            issue_token=caching.is_personal(request) and not shared,
            with_csrf=caching.has_session(request),
        )
    return {
        "article": article,
        "threads": threads,
        "pending": pending,
        # This browser's comments it may still edit (its page is its own: see comments/editing.py).
        "editable": editing.editable_on(article, own_ids),
        "form_html": render_form(context, article, form, blank=blank) if is_open else None,
        "notice": context.get("comment_notice", ""),
    }
