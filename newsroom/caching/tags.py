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

import functools
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


@contextmanager
def apart():
    """Inside the block, reads declare nothing to the collections around it: for what decides
    how long a response is kept (the next scheduled story's time) rather than what it shows.
    Collections opened inside the block collect as usual."""
    token = _collectors.set(())
    try:
        yield
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
    """A queryset that declares what it read whenever it reads the database (fetching rows,
    counting, aggregating, checking existence):

    - its model's collection tag, and each loaded instance its own (see `Tagged`);
    - when it reads fields without loading instances (values(), aggregates), the ``-all`` tag
      of its model and of every other model it joins to read them (a medal table's nation
      names). Instances loaded through joins (select_related) declare their own tags instead;
      an annotation computed over joined rows must declare what it reads by hand
      (`declaring()`);
    - the tags given to `declaring()`;
    - or, for a read `scoped()` to some tags, those instead of its collection's and ``-all``;
    - again each time its rows are used, not only when they are fetched: rows fetched while
      one fragment was built and shown in another still make the second depend on them.
    """

    _extra_tags = ()
    _scope = None  # the tags `scoped()` gave, declared instead of the collection's

    def scoped(self, *tags):
        """This queryset, declaring `tags` (strings, maybe none) instead of its model's
        collection and ``-all`` tags: for a read whose rows and values change only when an
        object it loads changes (their own tags, declared anyway) or when one of `tags` is
        announced. The caller promises that: every change that could add, drop, reorder or
        alter a row of this read must announce one of them. For example a detail page's lookup
        (`scoped()`: a found object changes only with its own tag, and a page that found
        nothing is not kept), a story's own tags or events (their links announce the story),
        or the stories filed under one section (`scoped("section-3-stories")`). Values read
        through joins still declare the joined models' ``-all`` tags."""
        clone = self._chain()
        clone._scope = tags
        return clone

    def declaring(self, *tags):
        """This queryset, also declaring `tags` (strings) whenever it reads, e.g. its model's
        ``-all`` tag for a text search, whose matches any change to any row may alter."""
        clone = self._chain()
        clone._extra_tags = (*self._extra_tags, *tags)
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._extra_tags = self._extra_tags
        clone._scope = self._scope
        return clone

    def _fetch_all(self):
        if self._result_cache is None:
            with collecting() as found:
                values = self._iterable_class is not models.query.ModelIterable
                declare(*self._tags_of_reading(values=values, joined=values))
                super()._fetch_all()
            self._tags_read = frozenset(found)
        else:
            declare(*getattr(self, "_tags_read", ()))

    def count(self):
        declare(*self._tags_of_reading())
        return super().count()

    def exists(self):
        declare(*self._tags_of_reading())
        return super().exists()

    def aggregate(self, *args, **kwargs):
        declare(*self._tags_of_reading(values=True, joined=True))
        return super().aggregate(*args, **kwargs)

    def _tags_of_reading(self, *, values=False, joined=False):
        """The tags a read declares before any row is seen: its collection's (or its
        `scoped()` tags instead), `declaring()`'s, the model's ``-all`` when it reads `values`
        instead of instances (unless scoped), and the ``-all`` of every model it `joined` to
        compute them."""
        if self._scope is not None:
            tags = [*self._scope, *self._extra_tags]
        else:
            tags = [list_tag(self.model), *self._extra_tags]
            if values:
                tags.append(all_tag(self.model))
        if joined:
            tags += [all_tag(model) for model in _joined_models(self.query) - {self.model}]
        return tags


def _joined_models(query):
    """The models whose tables `query` (a sql.Query) joins: every table in its FROM clause
    (joins set up and then trimmed, such as a filter on a foreign key's id, are not)."""
    models_by_table = _models_by_table()
    return {
        models_by_table[join.table_name]
        for alias, join in query.alias_map.items()
        if query.alias_refcount.get(alias) and join.table_name in models_by_table
    }


@functools.cache
def _models_by_table():
    from django.apps import apps

    return {model._meta.db_table: model for model in apps.get_models()}


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
