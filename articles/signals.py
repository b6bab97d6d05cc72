"""Derived data follows each article once its transaction commits: the search index, and the
files of a deleted article's hero image. A correction or update note makes its story modified
then (dateModified, the feeds' updated time, the sitemap's lastmod)."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import images, search
from .models import Article, Correction


@receiver(post_save, sender=Article, dispatch_uid="articles.index_saved_article")
def index_saved_article(sender, instance, using, **kwargs):
    transaction.on_commit(partial(search.index_articles, [instance.pk], using=using), using=using)


@receiver(post_delete, sender=Article, dispatch_uid="articles.unindex_deleted_article")
def unindex_deleted_article(sender, instance, using, **kwargs):
    transaction.on_commit(partial(search.unindex_articles, [instance.pk], using=using), using=using)


@receiver(post_delete, sender=Article, dispatch_uid="articles.delete_hero_files")
def delete_hero_files(sender, instance, using, **kwargs):
    transaction.on_commit(partial(images.delete_files, images.hero_files(instance)), using=using)


@receiver(post_save, sender=Correction, dispatch_uid="articles.note_modifies_story")
def note_modifies_story(sender, instance, created, using, raw=False, **kwargs):
    if created and not raw:
        Article.objects.using(using).filter(
            pk=instance.article_id, updated_at__lt=instance.created_at
        ).update(updated_at=instance.created_at)
