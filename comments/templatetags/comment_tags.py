import nh3
from django import template
from django.utils.html import Urlizer as DjangoUrlizer
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe

from comments import cookies
from comments.forms import CommentForm
from comments.models import Comment
from comments.moderation import comments_open, policy
from comments.threads import PAGE_PARAM, thread_page

register = template.Library()

LINK_REL = "nofollow ugc noopener"


class Urlizer(DjangoUrlizer):
    """Django's urlize without mailto links: an address typed in a comment stays plain text."""

    def handle_word(self, word, *, safe_input, autoescape=False, **kwargs):
        if "@" in word and "://" not in word:
            return escape(word) if autoescape else word
        return super().handle_word(word, safe_input=safe_input, autoescape=autoescape, **kwargs)


urlize = Urlizer()


@register.filter
def comment_body(text):
    """A plain-text comment as HTML: escaped, paragraphs and line breaks kept, links made safe."""
    html = linebreaks(urlize(text, autoescape=True), autoescape=False)
    return mark_safe(  # noqa: S308 - nh3 has just sanitised it
        nh3.clean(
            html,
            tags={"p", "br", "a"},
            attributes={"a": {"href"}},
            url_schemes={"http", "https"},
            link_rel=LINK_REL,
        )
    )


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


@register.inclusion_tag("comments/section.html", takes_context=True)
def comment_section(context, article):
    """The comments under a story: approved threads, this browser's pending ones, the form."""
    request = context["request"]
    is_open = comments_open(article)
    page, nodes = thread_page(article, request.GET.get(PAGE_PARAM))
    pending_ids = cookies.pending_ids(request)
    pending = (
        list(Comment.objects.for_author(pending_ids).filter(article=article).for_display())
        if pending_ids
        else []
    )
    form = context.get("comment_form")
    if form is None and is_open:
        initial = cookies.remembered_author(request)
        initial["remember"] = bool(initial)
        initial["parent"] = reply_parent(request, article)
        form = CommentForm(article=article, initial=initial)
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "article": article,
        "is_open": is_open,
        "count": Comment.objects.filter(article=article).public().count(),
        "page_obj": page,
        "page_param": PAGE_PARAM,
        "nodes": nodes,
        "pending": pending,
        "form": form if is_open else None,
        "replying_to": form.replying_to if form is not None else None,
        "max_depth": policy("MAX_DEPTH"),
        "notice": context.get("comment_notice", ""),
    }
