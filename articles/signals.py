"""Derived data only: the search index follows each article once its transaction commits."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import search
from .models import Article


@receiver(post_save, sender=Article, dispatch_uid="articles.index_saved_article")
def index_saved_article(sender, instance, using, **kwargs):
    transaction.on_commit(partial(search.index_articles, [instance.pk], using=using), using=using)


@receiver(post_delete, sender=Article, dispatch_uid="articles.unindex_deleted_article")
def unindex_deleted_article(sender, instance, using, **kwargs):
    transaction.on_commit(partial(search.unindex_articles, [instance.pk], using=using), using=using)
