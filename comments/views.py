from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_safe

from articles.models import Article
from articles.views import ArticleDetailView
from newsroom import caching

from . import cookies, display, editing, email_links, reply_emails
from .forms import CommentForm, issue_token
from .models import Comment
from .moderation import comments_open
from .posting import post_comment
from .refusals import CommentsClosed, DuplicateComment, RateLimited
from .throttling import client_hash


def csrf_token_with_session(view):
    """Django's token CSRF check for a browser with a session (a signed-in user, whose page
    carried a token); without a session there is no token (the form is shared by everyone) and
    the cross-origin check (newsroom.crossorigin) is the protection."""
    protected = csrf_protect(view)

    def check(request, *args, **kwargs):
        if caching.has_session(request):
            return protected(request, *args, **kwargs)
        return view(request, *args, **kwargs)

    return csrf_exempt(check)


@method_decorator(csrf_token_with_session, "dispatch")
class PostCommentView(ArticleDetailView):
    """A reader posts the comment form. Problems re-show the story with the form and its errors;
    a form sent without its "shown at" token is shown again to be confirmed (200)."""

    http_method_names = ["get", "post"]

    def get(self, request, *args, **kwargs):
        return redirect(f"{self.get_object().get_absolute_url()}#respond")

    def post(self, request, *args, **kwargs):
        self.object = article = self.get_object()
        form = CommentForm(request.POST, article=article, with_csrf=caching.has_session(request))
        if not comments_open(article):
            return self.show(form, status=403, notice=str(CommentsClosed()))
        if not form.is_valid():
            return self.show(form, status=200 if form.only_needs_confirming else 400)
        try:
            # One transaction up to the answer: if the database fails before the redirect is
            # built, the 503 saying "not saved" is true and sending again posts it once.
            with transaction.atomic():
                comment = post_comment(
                    comment=form.save(commit=False),
                    client=client_hash(request),
                    own_ids=cookies.own_ids(request),
                    notify_replies=form.cleaned_data["notify_replies"],
                )
                return self.posted(comment, form)
        except CommentsClosed as refusal:
            return self.show(form, status=403, notice=str(refusal))
        except DuplicateComment as refusal:
            form.add_error("body", str(refusal))
            return self.show(form, status=400)
        except RateLimited as refusal:
            return self.too_many(refusal, form)

    def show(self, form, *, status, notice=""):
        context = self.get_context_data(comment_form=form, comment_notice=notice)
        return self.render_to_response(context, status=status)

    def too_many(self, refusal, form):
        """429 with Retry-After: the story again, the form still holding what was typed, and
        how long to wait (a comment is never lost to the rate limit)."""
        response = self.show(form, status=429, notice=str(refusal))
        response["Retry-After"] = str(refusal.retry_after)
        return response

    def posted(self, comment, form):
        shown = comment.is_public or comment.looks_held_to_author
        if shown:  # in the order the reader was reading (?corder= on the form's address)
            url = display.location(comment, self.request.GET.get(display.ORDER_PARAM))
        else:
            url = f"{self.object.get_absolute_url()}#comments"
        response = HttpResponseRedirect(url, status=303)
        if shown:
            # Approved or held (a banned commenter's too), the same cookie: the answer never
            # tells which rule decided.
            cookies.add_own(self.request, response, comment)
        if form.cleaned_data["remember"]:
            cookies.remember_author(response, form.cleaned_data)
        else:
            cookies.forget_author(self.request, response)
        return response


@require_safe
def permalink(request, pk):
    """A comment's permalink (Comment.get_absolute_url): a 302 to its story's page of comments
    that shows it, in the order ?corder= asks for (the site's by default), at its #c<id>
    anchor. 404 for a comment readers cannot see (its author, by their signed cookie, is sent
    to their own waiting comment) and for a story that is not published."""
    comment = get_object_or_404(
        Comment.objects.only(
            "pk", "article_id", "parent_id", "status", "status_reason", "created_at"
        ),
        pk=pk,
    )
    if not comment.is_public:
        own = comment.pk in cookies.own_ids(request) and comment.looks_held_to_author
        if not own:
            raise Http404("No such comment.")
    comment.article = get_object_or_404(Article.objects.published(), pk=comment.article_id)
    return HttpResponseRedirect(display.location(comment, request.GET.get(display.ORDER_PARAM)))


@require_GET
def form_token(request, slug):
    """A fresh "shown at" token for the comment form of an open story, as JSON
    (`{"token": "..."}`): the form's script asks for it when the reader starts typing, since
    the form itself is kept for everyone. Never kept by any cache."""
    article = get_object_or_404(Article.objects.published(), slug=slug)
    if not comments_open(article):
        raise Http404("Comments are closed on this story.")
    response = JsonResponse({"token": issue_token(article.pk)})
    add_never_cache_headers(response)
    return response


def private_page(request, template, context, status=200):
    """A page built for one browser: never cached, never indexed, no Referer sent on."""
    response = TemplateResponse(request, template, context, status=status)
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@method_decorator(csrf_token_with_session, "dispatch")
class EditCommentView(View):
    """A commenter edits their own comment (the rules: comments/editing.py). GET shows the form,
    POST saves and goes to the comment (303); a refusal is its page with its 4xx, and what was
    typed is always shown again."""

    http_method_names = ["get", "post"]
    template_name = "comments/edit.html"

    def comment(self, pk):
        return Comment.objects.select_related("article").filter(pk=pk).first()

    def get(self, request, pk):
        comment = self.comment(pk)
        try:
            editing.check_editable(comment, cookies.own_ids(request), pk=pk)
        except editing.CannotEdit as refusal:
            return self.page(comment, refusal=refusal, status=refusal.status)
        return self.page(comment, form=editing.EditForm(initial={"body": comment.body}))

    def post(self, request, pk):
        comment = self.comment(pk)
        form = editing.EditForm(request.POST)
        try:
            editing.check_editable(comment, cookies.own_ids(request), pk=pk)
            if not form.is_valid():
                return self.page(comment, form=form, status=400)
            # As for a new comment: if the database fails before the answer is built, the
            # error page saying nothing was saved is true.
            with transaction.atomic():
                comment = editing.edit_comment(
                    pk, body=form.cleaned_data["body"], own_ids=cookies.own_ids(request)
                )
                return HttpResponseRedirect(display.location(comment), status=303)
        except editing.CannotEdit as refusal:
            response = self.page(comment, form=form, refusal=refusal, status=refusal.status)
            if refusal.retry_after:
                response["Retry-After"] = str(refusal.retry_after)
            return response

    def page(self, comment, *, form=None, refusal=None, status=200):
        context = {
            "comment": comment,
            "form": form,
            "refusal": refusal,
            "with_csrf": caching.has_session(self.request),
            "min_length": editing.BODY_MIN,
            "max_length": editing.BODY_MAX,
        }
        if comment is not None and refusal is None:
            context["until"] = editing.edit_until(comment)
        return private_page(self.request, self.template_name, context, status)


@method_decorator(csrf_token_with_session, "dispatch")
class ModerateFromEmailView(View):
    """A link from the moderators' email (comments/email_links.py): GET shows what it would
    do and a button; POST does it. Refused links get their page and 4xx. Never cached, never
    indexed, no Referer sent on (the token is in the address); never shows an email address."""

    http_method_names = ["get", "post"]
    template_name = "comments/moderate_from_email.html"

    def get(self, request, action, token):
        try:
            link = email_links.read(action, token)
        except email_links.LinkRefused as refusal:
            return self.refused(refusal)
        return self.page({"link": link, "comment": link.comment})

    def post(self, request, action, token):
        try:
            link = email_links.read(action, token)
            done = email_links.act(link)
        except email_links.LinkRefused as refusal:
            return self.refused(refusal)
        return self.page({"done": done, "comment": link.comment})

    def refused(self, refusal):
        context = {"refusal": refusal, "comment": refusal.comment}
        return self.page(context, status=refusal.status)

    def page(self, context, status=200):
        return private_page(self.request, self.template_name, context, status=status)


class ReplyEmailsView(View):
    """A link from a commenter's email (comments/reply_emails.py), `kind` "confirm" or "mute":
    GET shows what it would do and a button, POST does it; a refused link gets its page and
    4xx. Never cached, never indexed, no Referer sent on (the token is in the address); never
    shows the address."""

    http_method_names = ["get", "post"]
    template_name = "comments/reply_emails.html"
    kind = reply_emails.CONFIRM
    actions = {reply_emails.CONFIRM: reply_emails.confirm, reply_emails.MUTE: reply_emails.mute}

    def get(self, request, token):
        try:
            link = reply_emails.read(self.kind, token)
        except reply_emails.LinkRefused as refusal:
            return self.page({"refusal": refusal}, status=refusal.status)
        if self.kind == reply_emails.MUTE and link.subscription.muted_at:
            return self.page({"done": self.kind})  # already off: nothing to ask
        return self.page({})

    def post(self, request, token):
        try:
            link = reply_emails.read(self.kind, token)
        except reply_emails.LinkRefused as refusal:
            return self.page({"refusal": refusal}, status=refusal.status)
        self.actions[self.kind](link.subscription)
        return self.page({"done": self.kind})

    def page(self, context, status=200):
        context |= {"kind": self.kind, "with_csrf": caching.has_session(self.request)}
        return private_page(self.request, self.template_name, context, status=status)


@method_decorator(csrf_token_with_session, "dispatch")
class ConfirmReplyEmailsView(ReplyEmailsView):
    """The confirmation link of reply emails (double opt-in)."""

    kind = reply_emails.CONFIRM


@method_decorator(csrf_exempt, "dispatch")
class MuteReplyEmailsView(ReplyEmailsView):
    """The mute link of reply emails. Exempt from the CSRF token: RFC 8058's one-click POST
    comes from the mail client with no cookie and no token; the signed token is the proof."""

    kind = reply_emails.MUTE
