"""Derived data follows each article once its transaction commits: the search index, and the
files of a deleted article's hero image."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import images, search
from .models import Article


@receiver(post_save, sender=Article, dispatch_uid="articles.index_saved_article")
def index_saved_article(sender, instance, using, **kwargs):
    transaction.on_commit(partial(search.index_articles, [instance.pk], using=using), using=using)


@receiver(post_delete, sender=Article, dispatch_uid="articles.unindex_deleted_article")
def unindex_deleted_article(sender, instance, using, **kwargs):
    transaction.on_commit(partial(search.unindex_articles, [instance.pk], using=using), using=using)


@receiver(post_delete, sender=Article, dispatch_uid="articles.delete_hero_files")
def delete_hero_files(sender, instance, using, **kwargs):
    transaction.on_commit(partial(images.delete_files, images.hero_files(instance)), using=using)
