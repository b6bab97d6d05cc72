"""Which tags a change to comments touches (see newsroom.caching).

A story's public comments are one tag, its thread tag ("thread-12"): the threads fragment and
every page showing them declare it. Only changes a reader can see announce it: a comment that
is, or was, approved being saved or deleted. A new comment held for moderation changes no
public page (its author sees it on a page built for them alone). Queryset updates send no
signal, so the services announce theirs with `announce_threads`.
"""

from django.db.models.signals import post_delete, post_save, pre_save

from newsroom.caching import announce, register_personal_cookie

from . import cookies
from .models import Comment


def thread_tag(article_id):
    """The tag of a story's public comments (their count included)."""
    return f"thread-{article_id}"


def announce_threads(article_ids, using=None):
    """The public comments of these stories changed (after the current transaction commits)."""
    announce(*map(thread_tag, set(article_ids)), using=using)


def _before_save(sender, instance, raw, **kwargs):
    if instance._state.adding:  # every posted comment: no row to read yet
        instance._was_public = False
        return
    old = Comment.objects.filter(pk=instance.pk).values_list("status", flat=True).first()
    instance._was_public = Comment.status_is_public(old)


def _saved(sender, instance, using, **kwargs):
    if instance.is_public or getattr(instance, "_was_public", False):
        announce_threads([instance.article_id], using=using)


def _deleted(sender, instance, using, **kwargs):
    if instance.is_public:
        announce_threads([instance.article_id], using=using)


def connect():
    pre_save.connect(_before_save, sender=Comment, dispatch_uid="caching.comment.pre")
    post_save.connect(_saved, sender=Comment, dispatch_uid="caching.comment.saved")
    post_delete.connect(_deleted, sender=Comment, dispatch_uid="caching.comment.deleted")
    # Both change only the comment section, a hole of the story's page (comments.display), and
    # comments.cookies says so each time it reads them.
    register_personal_cookie(cookies.PENDING, holes=True)
    register_personal_cookie(cookies.AUTHOR, holes=True)
