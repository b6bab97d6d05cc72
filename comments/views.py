from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render

from articles.views import ArticleDetailView

from . import cookies, services
from .forms import CommentForm
from .models import Comment
from .moderation import comments_open


class PostCommentView(ArticleDetailView):
    """A reader posts the comment form. Problems re-show the story with the form and its errors."""

    http_method_names = ["get", "post"]

    def get(self, request, *args, **kwargs):
        return redirect(f"{self.get_object().get_absolute_url()}#respond")

    def post(self, request, *args, **kwargs):
        self.object = article = self.get_object()
        form = CommentForm(request.POST, article=article)
        if not comments_open(article):
            return self.show(form, status=403, notice=str(services.CommentsClosed()))
        if not form.is_valid():
            return self.show(form, status=400)
        try:
            # One transaction up to the answer: if the database fails before the redirect is
            # built, the 503 saying "not saved" is true and sending again posts it once.
            with transaction.atomic():
                comment = services.post_comment(
                    comment=form.save(commit=False), client=services.client_hash(request)
                )
                return self.posted(comment, form)
        except services.CommentsClosed as refusal:
            return self.show(form, status=403, notice=str(refusal))
        except services.DuplicateComment as refusal:
            form.add_error("body", str(refusal))
            return self.show(form, status=400)
        except services.RateLimited as refusal:
            return self.too_many(refusal)

    def show(self, form, *, status, notice=""):
        context = self.get_context_data(comment_form=form, comment_notice=notice)
        return self.render_to_response(context, status=status)

    def too_many(self, refusal):
        response = render(
            self.request,
            "429.html",
            {"message": str(refusal), "back_url": f"{self.object.get_absolute_url()}#respond"},
            status=429,
        )
        response["Retry-After"] = str(refusal.retry_after)
        return cookies.apply_cache_policy(self.request, response)

    def posted(self, comment, form):
        if comment.status == Comment.Status.SPAM:
            url = f"{self.object.get_absolute_url()}#comments"
        else:
            url = comment.get_absolute_url()
        response = HttpResponseRedirect(url, status=303)
        if comment.status == Comment.Status.PENDING:
            cookies.add_pending(self.request, response, comment)
        if form.cleaned_data["remember"]:
            cookies.remember_author(response, form.cleaned_data)
        else:
            cookies.forget_author(self.request, response)
        return cookies.apply_cache_policy(self.request, response)
