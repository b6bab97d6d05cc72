"""Search: words in, ranked published stories (with highlighted snippets), athletes and events out.

PostgreSQL: a weighted `search_vector` tsvector column on articles_article with a GIN index
(English stems plus the unstemmed words, so "Olympi" finds "Olympic" as you type), ts_rank and
ts_headline. SQLite: an FTS5 table ranked with bm25() and cut with snippet(). Both indexes are
derived data, created by migration 0002 and refreshed after each commit by articles/signals.py.

Whatever a reader types is reduced to at most MAX_TERMS words of letters and digits, so no
quote, operator or SQL fragment ever reaches a query parser.
"""

import html
import re
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import (
    Lexeme,
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
)
from django.db import connections
from django.db.models import FloatField, Q, TextField
from django.db.models.expressions import RawSQL
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

from .markdown import render_markdown
from .models import Article, Athlete, Event

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
WORD = re.compile(r"[^\W_]+")
# Private-use characters mark matches inside snippets; they are swapped for <mark> after escaping.
MARK_START, MARK_END = "\ue000", "\ue001"


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple

    @classmethod
    def parse(cls, raw):
        text = " ".join((raw or "").split())[:MAX_QUERY_LENGTH]
        terms = []
        for word in WORD.findall(text):
            word = word.lower()[:MAX_TERM_LENGTH]
            if word not in terms:
                terms.append(word)
        return cls(text=text, terms=tuple(terms[:MAX_TERMS]))

    def __bool__(self):
        return bool(self.terms)


@dataclass(frozen=True)
class Hit:
    """One story as the results page shows it: title, standfirst and excerpt as safe HTML."""

    article: Article
    title: SafeString
    standfirst: SafeString
    excerpt: SafeString


def articles(query, *, among=None):
    """Published stories matching every term, best first, carrying raw highlight annotations.
    With `among` (story ids), only those are ranked."""
    if not query:
        return Article.objects.none()
    stories = Article.objects.published()
    if among is not None:
        stories = stories.filter(pk__in=among)
    return _backend().articles(stories, query.terms).select_related("section").defer("body")


def newest_matches(query, most):
    """The ids of the newest `most` published stories that match, newest first: what a
    search ranks, so a word found in nearly every story does not mean ranking every story."""
    if not query:
        return []
    matching = _backend().matching(Article.objects.published(), query.terms)
    return list(matching.order_by("-published_at", "-pk").values_list("pk", flat=True)[:most])


def athletes(query):
    if not query:
        return Athlete.objects.none()
    return _backend().athletes(Athlete.objects.select_related("nation"), query.terms)


def events(query):
    if not query:
        return Event.objects.none()
    return _backend().events(Event.objects.select_related("competition"), query.terms)


def hits(stories):
    """Turn a page of `articles()` results into Hits. Only matched body text becomes an excerpt."""
    return [
        Hit(
            article=story,
            title=highlight(story.title_marked),
            standfirst=highlight(story.standfirst_marked),
            excerpt=highlight(_markdown_to_text(story.body_marked))
            if MARK_START in (story.body_marked or "")
            else mark_safe(""),  # noqa: S308 - empty string
        )
        for story in stories
    ]


def highlight(marked_text):
    """Escape a snippet, then turn its match markers into <mark> elements."""
    escaped = escape(marked_text or "")
    return mark_safe(  # noqa: S308 - every character of reader or editor text is escaped above
        escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    )


def _markdown_to_text(fragment):
    """A body snippet is Markdown; readers should see its words, not its asterisks and URLs."""
    return html.unescape(strip_tags(render_markdown(fragment))).strip()


def index_articles(pks=None, *, using="default"):
    """Refresh the index for these article ids (all articles when None)."""
    _backend(using).index(None if pks is None else list(pks))


def unindex_articles(pks, *, using="default"):
    _backend(using).unindex(list(pks))


def _backend(using="default"):
    connection = connections[using]
    return BACKENDS[connection.vendor](connection)


class PostgresBackend:
    VECTOR_SQL = """
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('simple', title), 'A')
        || setweight(to_tsvector('english', standfirst), 'B')
        || setweight(to_tsvector('simple', standfirst), 'B')
        || setweight(to_tsvector('english', body), 'C')
        || setweight(to_tsvector('simple', body), 'C')
    """
    VECTOR = RawSQL('"articles_article"."search_vector"', (), output_field=SearchVectorField())

    def __init__(self, connection):
        self.connection = connection

    def matching(self, queryset, terms):
        return queryset.alias(vector=self.VECTOR).filter(vector=self._query(terms))

    def articles(self, queryset, terms):
        query = self._query(terms)
        return (
            queryset.alias(vector=self.VECTOR)
            .filter(vector=query)
            .annotate(
                rank=SearchRank(self.VECTOR, query),
                title_marked=self._headline("title", query, highlight_all=True),
                standfirst_marked=self._headline("standfirst", query, highlight_all=True),
                body_marked=self._headline(
                    "body",
                    query,
                    max_words=30,
                    min_words=12,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                ),
            )
            .order_by("-rank", "-published_at", "-pk")
        )

    def athletes(self, queryset, terms):
        return self._rank_names(queryset, ("name", "nation__name", "nation__code"), terms).order_by(
            "-rank", "name"
        )

    def events(self, queryset, terms):
        fields = ("name", "sport", "competition__name", "venue")
        return self._rank_names(queryset, fields, terms).order_by("-rank", "-starts_at")

    def index(self, pks):
        sql = f"UPDATE articles_article SET search_vector = {self.VECTOR_SQL}"  # noqa: S608 - constant
        with self.connection.cursor() as cursor:
            if pks is None:
                cursor.execute(sql)
            else:
                cursor.execute(f"{sql} WHERE id = ANY(%s)", [pks])

    def unindex(self, pks):
        """The vector lives in the article's own row, so it goes when the row does."""

    def _query(self, terms):
        return reduce(
            and_,
            (self._term(term, "english") | self._term(term, "simple") for term in terms),
        )

    @staticmethod
    def _term(term, config):
        # The exact word beside its prefix matches nothing more (the prefix covers it), but gives
        # PostgreSQL's planner an estimate: it has none for a prefix alone, and took a word in
        # every story for a rare one, ranking all 100,000 matches instead of the newest.
        return SearchQuery(Lexeme(term) | Lexeme(term, prefix=True), config=config)

    @staticmethod
    def _headline(field, query, **options):
        return SearchHeadline(
            field, query, config="simple", start_sel=MARK_START, stop_sel=MARK_END, **options
        )

    def _rank_names(self, queryset, fields, terms):
        """Names are few and short: an on-the-fly unstemmed vector is enough, no index needed."""
        query = reduce(and_, (self._term(term, "simple") for term in terms))
        vector = SearchVector(*fields, config="simple")
        return (
            queryset.alias(vector=vector)
            .filter(vector=query)
            .annotate(rank=SearchRank(vector, query))
        )


class SQLiteBackend:
    # SQL below is built from these constants only; reader input is always a query parameter.
    TABLE = "articles_article_fts"
    MATCHING_IDS = f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s"  # noqa: S608
    OWN_ROW = f"FROM {TABLE} WHERE {TABLE} MATCH %s AND rowid = articles_article.id"
    COPY = (
        f"INSERT INTO {TABLE} (rowid, title, standfirst, body) "  # noqa: S608
        "SELECT id, title, standfirst, body FROM articles_article"
    )

    def __init__(self, connection):
        self.connection = connection

    def matching(self, queryset, terms):
        return queryset.filter(pk__in=RawSQL(self.MATCHING_IDS, [self._match(terms)]))  # noqa: S611

    def articles(self, queryset, terms):
        match = self._match(terms)
        marks = [MARK_START, MARK_END]
        return (
            self.matching(queryset, terms)
            .annotate(
                rank=self._own_row(f"-bm25({self.TABLE}, 10.0, 4.0, 1.0)", [match], FloatField()),
                title_marked=self._own_row(f"highlight({self.TABLE}, 0, %s, %s)", [*marks, match]),
                standfirst_marked=self._own_row(
                    f"highlight({self.TABLE}, 1, %s, %s)", [*marks, match]
                ),
                body_marked=self._own_row(
                    f"snippet({self.TABLE}, 2, %s, %s, ' … ', 32)", [*marks, match]
                ),
            )
            .order_by("-rank", "-published_at", "-pk")
        )

    @staticmethod
    def _match(terms):
        # Terms hold letters and digits only, so quoting them leaves no FTS5 syntax to abuse.
        return " ".join(f'"{term}"*' for term in terms)

    def athletes(self, queryset, terms):
        fields = ("name", "nation__name", "nation__code")
        return queryset.filter(self._contains_all(fields, terms)).order_by("name")

    def events(self, queryset, terms):
        fields = ("name", "sport", "competition__name", "venue")
        return queryset.filter(self._contains_all(fields, terms)).order_by("-starts_at")

    def index(self, pks):
        with self.connection.cursor() as cursor:
            if pks is None:
                cursor.execute(f"DELETE FROM {self.TABLE}")  # noqa: S608
                cursor.execute(self.COPY)
            elif pks:
                self.unindex(pks)
                cursor.execute(f"{self.COPY} WHERE id IN {self._list(pks)}", pks)

    def unindex(self, pks):
        if pks:
            with self.connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {self.TABLE} WHERE rowid IN {self._list(pks)}", pks)  # noqa: S608

    def _own_row(self, expression, params, output_field=None):
        """A correlated subquery reading the outer article's own FTS5 row."""
        sql = f"SELECT {expression} {self.OWN_ROW}"  # noqa: S608
        return RawSQL(sql, params, output_field=output_field or TextField())  # noqa: S611

    @staticmethod
    def _list(pks):
        return f"({', '.join(['%s'] * len(pks))})"

    @staticmethod
    def _contains_all(fields, terms):
        """The simplest honest match for short names: every term appears in one of the fields."""
        return reduce(
            and_,
            (reduce(or_, (Q(**{f"{field}__icontains": t}) for field in fields)) for t in terms),
        )


BACKENDS = {"postgresql": PostgresBackend, "sqlite": SQLiteBackend}
