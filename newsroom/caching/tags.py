"""Tags: names for what a response shows, collected while it is built.

A tag is a short string:

- ``"<model>-<pk>"``: one object (``"article-12"``), declared by each instance loaded;
- ``"<model>-list"``: which objects of a model there are, declared by every query of it (even
  one that found nothing); announced when one is created or deleted (or, for stories, becomes
  or stops being public);
- ``"<model>-all"``: anything about any of them, declared by queries that read fields without
  loading instances (aggregates such as the latest date in a sitemap index, values()); announced
  with every change to one of them;
- a name an app chooses (``"thread-12"``: the public comments of story 12);
- ``"site"`` (frontcache.SITE_TAG): on every public response for the front cache, purged
  whole when a new release starts.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models

# The tag sets being collected, innermost last: a page, and the fragment it is building.
_collectors = ContextVar("cache_tag_collectors", default=())


def declare(*tags):
    """Record that what is being built shows `tags` (strings). Every enclosing collection gets
    them: a fragment's tags are also its page's. Outside any collection it does nothing."""
    for found in _collectors.get():
        found.update(tags)


@contextmanager
def collecting():
    """Collect the tags declared inside the block into the set it yields."""
    found = set()
    token = _collectors.set((*_collectors.get(), found))
    try:
        yield found
    finally:
        _collectors.reset(token)


def tag_for(model_or_instance, pk=None):
    """The tag of one object: ``tag_for(article)`` or ``tag_for(Article, 12)`` -> "article-12"."""
    if pk is None:
        pk = model_or_instance.pk
    return f"{model_or_instance._meta.model_name}-{pk}"


def list_tag(model_or_instance):
    """The tag of a model's collection: ``list_tag(Article)`` -> "article-list"."""
    return f"{model_or_instance._meta.model_name}-list"


def all_tag(model_or_instance):
    """The tag of every field of every object of a model: ``all_tag(Event)`` -> "event-all"."""
    return f"{model_or_instance._meta.model_name}-all"


class TaggedQuerySet(models.QuerySet):
    """A queryset that declares its model's collection tag whenever it reads the database
    (fetching rows, counting, aggregating, checking existence)."""

    def _fetch_all(self):
        if self._result_cache is None:
            declare(list_tag(self.model))
            if self._iterable_class is not models.query.ModelIterable:
                declare(all_tag(self.model))  # values(): no instance declares its tag
        super()._fetch_all()

    def count(self):
        declare(list_tag(self.model))
        return super().count()

    def exists(self):
        declare(list_tag(self.model))
        return super().exists()

    def aggregate(self, *args, **kwargs):
        declare(list_tag(self.model), all_tag(self.model))
        return super().aggregate(*args, **kwargs)


class Tagged(models.Model):
    """A model whose loaded instances declare their own tag (see `Model.from_db`, which Django
    calls for every row it turns into an instance, select_related ones included)."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values, *, fetch_mode=None):
        instance = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        declare(tag_for(instance))
        return instance

    @property
    def cache_tag(self):
        return tag_for(self)
