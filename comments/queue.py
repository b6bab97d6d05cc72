"""The moderation queue's pieces for the admin's list of comments: the status filter that opens
on what waits, the cells of each row (the comment with what it answers, the story's title cut
short, the row's actions) and the last decision kept for "Undo"."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from newsroom.dates import time_element

from .models import Comment

ALL = "all"
STORY_CHARS = 48  # a story's title in the list is cut to this many characters
UNDO_KEY = "comments:undo"  # the session key of the moderator's last decision


class StatusFilter(admin.SimpleListFilter):
    """The queue's status filter: with nothing chosen it shows what waits (pending); "All" is a
    choice of its own. Its parameter keeps the name Django's field filter used, so links such
    as `?status__exact=pending` keep working."""

    title = "status"
    parameter_name = "status__exact"

    def lookups(self, request, model_admin):
        return [
            (Comment.Status.PENDING, "Waiting (pending)"),
            (Comment.Status.APPROVED, "Approved"),
            (Comment.Status.REJECTED, "Rejected"),
            (Comment.Status.SPAM, "Spam"),
            (ALL, "All"),
        ]

    def chosen(self):
        value = self.value()
        return value if value in (*Comment.Status.values, ALL) else Comment.Status.PENDING

    def queryset(self, request, queryset):
        chosen = self.chosen()
        return queryset if chosen == ALL else queryset.filter(status=chosen)

    def choices(self, changelist):
        chosen = self.chosen()
        for value, label in self.lookup_choices:
            yield {
                "selected": chosen == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


def comment_cell(comment):
    """The comment's excerpt, and the one it answers ("In response to NAME: excerpt")."""
    # dir="auto" (and <bdi>): a reader's right-to-left text is laid out right to left.
    if not comment.parent_id:
        return format_html('<span dir="auto">{}</span>', comment.excerpt)
    parent = comment.parent
    return format_html(
        '<span dir="auto">{}</span><span class="cq-parent">In response to <bdi>{}</bdi>: '
        "“<bdi>{}</bdi>”</span>",
        comment.excerpt,
        parent.name,
        Truncator(parent.excerpt).chars(60),
    )


def story_cell(comment):
    """The story's title cut to STORY_CHARS, the whole title in `title` and for screen readers."""
    title = comment.article.title
    short = Truncator(title).chars(STORY_CHARS)
    if short == title:
        return format_html('<span class="cq-story">{}</span>', title)
    return format_html(
        '<span class="cq-story" title="{}" aria-hidden="true">{}</span>'
        '<span class="visually-hidden">{}</span>',
        title,
        short,
        title,
    )


def commenter_cell(name, email):
    """The commenter's name, and under it the address as this moderator may see it."""
    return format_html(
        '<span dir="auto">{}</span><span class="cq-email"><span class="visually-hidden">'
        "Email: </span>{}</span>",
        name,
        email or "—",
    )


def when_cell(moment, label, by=None):
    """A short date and time (and who, for a decision); "—" for none. `label` ("Created")
    shows only on narrow screens, where the columns' headings are hidden."""
    if moment is None:
        return format_html('<span class="cq-label">{} </span>—', label)
    who = format_html(" <span>by {}</span>", by.get_username()) if by else ""
    return format_html(
        '<span class="cq-label">{} </span><span class="cq-when">{} {}</span>{}',
        label,
        time_element(moment, "SHORT_DATE_FORMAT"),
        time_element(moment, "TIME_FORMAT"),
        who,
    )


ROW_BUTTONS = [
    # (the status it sets, its label, its key)
    (Comment.Status.APPROVED, "Approve", "a"),
    (Comment.Status.REJECTED, "Reject", "x"),
    (Comment.Status.SPAM, "Spam", "s"),
]


def actions_cell(comment):
    """The row's actions: a button per decision the comment can still take (each posts the
    list's form to the comment's decide URL), then Reply or, on a held comment, "Approve and
    reply" (its page, with the reply box). Each names the comment for screen readers."""
    decide = reverse("admin:comments_comment_decide", args=[comment.pk])
    who = format_html('<span class="visually-hidden"> {}’s comment</span>', comment.name)
    buttons = format_html_join(
        "",
        '<button type="submit" formaction="{}" name="decision" value="{}" class="cq-action"'
        ' data-key="{}">{}{}</button>',
        (
            (decide, status, key, label, who)
            for status, label, key in ROW_BUTTONS
            if status != comment.status
        ),
    )
    reply = ""
    if comment.status == Comment.Status.PENDING or comment.is_public:
        change = reverse("admin:comments_comment_change", args=[comment.pk])
        label = "Approve and reply" if comment.status == Comment.Status.PENDING else "Reply"
        reply = format_html(
            '<a href="{}#id_reply" class="cq-action cq-reply" data-key="r">{}{}</a>',
            change,
            label,
            who,
        )
    return format_html('<div class="cq-actions">{}{}</div>', buttons, reply)


def remember_decision(request, *, before, status):
    """Keep the moderator's last decision for Undo. `before`: {comment id: the status it had
    before the decision}, for the comments the decision changed; with each is kept the
    moderation_stamp the decision gave it, so an undo after anyone decided again is refused."""
    changed = Comment.objects.filter(pk__in=list(before)).only(
        "pk", "status", "moderated_at", "edited_at"
    )
    request.session[UNDO_KEY] = {
        "status": status,
        "comments": [[c.pk, before[c.pk], c.moderation_stamp] for c in changed],
    }


def last_decision(request):
    """The decision Undo would take back: {"status": ..., "comments": [[id, previous status,
    stamp after the decision], ...]}, or None."""
    return request.session.get(UNDO_KEY)


def forget_decision(request):
    request.session.pop(UNDO_KEY, None)
