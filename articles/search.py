"""Search: words in, ranked published stories (with highlighted snippets), athletes and events out.

Both databases answer the same way:
- stems: "olympics" finds "Olympic", "records" finds "record";
- prefixes of the words as written: "Olympi" finds "Olympic", "leer" finds "Leerdam" as you type;
- Unicode case and accents do not matter: "elodie" and "ÉLODIE" find "Élodie";
- a number and its unit are one thing, glued or not: "1000m" finds "1000 m" and back.

PostgreSQL: a weighted `search_vector` tsvector column on articles_article with a GIN index
(English stems plus the unstemmed words, both through `unaccent`), ts_rank and ts_headline.
SQLite: two FTS5 tables, the words as written and their Porter stems (both without diacritics),
ranked with bm25() and cut with snippet(). Both indexes are derived data, created by migrations
0003 and 0005 and refreshed after each commit by articles/signals.py.

Whatever a reader types is reduced to at most MAX_TERMS words of letters and digits, so no
quote, operator or SQL fragment ever reaches a query parser. A number followed by a unit
("1000 m") is one term, written glued ("1000m"); each backend looks for both spellings.
"""

import html
import re
import unicodedata
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
from django.db.backends.signals import connection_created
from django.db.models import F, FloatField, Func, Q, TextField
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Contains
from django.dispatch import receiver
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

from newsroom.caching import all_tag

from .markdown import render_markdown
from .models import Article, Athlete, Competition, Event, Nation

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
WORD = re.compile(r"[^\W_]+")
# A number glued to letters: "1000m", "500m", "10km". Found glued or spaced ("1000 m").
NUMBER_WITH_UNIT = re.compile(r"(\d+)([^\W\d_]+)")
# Units that join the number before them when typed apart: "1000 m" is searched as "1000m".
# Only units: "2026 olympics" stays two words that may appear anywhere in a story.
UNITS = frozenset(
    {"m", "km", "cm", "mm", "mi", "k", "ft", "yd", "kg", "g", "lb", "lbs", "s", "ms", "h", "min"}
    | {"kmh", "kph", "mph", "pt", "pts"}
)
# Private-use characters mark matches inside snippets; they are swapped for <mark> after escaping.
MARK_START, MARK_END = "\ue000", "\ue001"


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple

    @classmethod
    def parse(cls, raw):
        """The terms of what a reader typed: lowercased words, a unit joined to its number."""
        text = " ".join((raw or "").split())[:MAX_QUERY_LENGTH]
        words = [word.lower()[:MAX_TERM_LENGTH] for word in WORD.findall(text)]
        terms = []
        for i, word in enumerate(words):
            if word in UNITS and i and words[i - 1].isdecimal():
                continue  # joined to its number just before
            if word.isdecimal() and i + 1 < len(words) and words[i + 1] in UNITS:
                word += words[i + 1]
            if word not in terms:
                terms.append(word)
        return cls(text=text, terms=tuple(terms[:MAX_TERMS]))

    def __bool__(self):
        return bool(self.terms)

    @property
    def shorter(self):
        """For one term that found nothing, the shorter query worth trying: the start of the
        word ("olymp" for "olympiks") or the number alone ("1000" for "1000m"). None for a
        term too short to shorten."""
        if len(self.terms) != 1:
            return None
        term = self.terms[0]
        number_with_unit = NUMBER_WITH_UNIT.fullmatch(term)
        if number_with_unit:
            return number_with_unit.group(1)
        start = term[: max(3, (len(term) + 1) // 2)]
        return start if start != term else None


def spellings(term):
    """The ways a term is written in a story: "1000m" also as "1000 m"."""
    number_with_unit = NUMBER_WITH_UNIT.fullmatch(term)
    if number_with_unit:
        return (term, " ".join(number_with_unit.groups()))
    return (term,)


def fold(text):
    """Text compared without case or accents, for all of Unicode: "ÉLODIE" → "elodie"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class Folded(Func):
    """fold() in SQL, on SQLite, where LIKE and lower() only know ASCII letters."""

    function = "newsroom_fold"
    output_field = TextField()


@receiver(connection_created, dispatch_uid="articles.search.add_fold_to_sqlite")
def add_fold_to_sqlite(sender, connection, **kwargs):
    """Give each SQLite connection the newsroom_fold() function that Folded calls."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("newsroom_fold", 1, _fold_sql, deterministic=True)


def _fold_sql(text):
    return None if text is None else fold(text)


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
    found = _backend().articles(stories, query.terms)
    return found.select_related("section").defer("body", "body_html")


def newest_matches(query, most):
    """The ids of the newest `most` published stories that match, newest first: what a
    search ranks, so a word found in nearly every story does not mean ranking every story."""
    if not query:
        return []
    matching = _backend().matching(Article.objects.published(), query.terms)
    return list(matching.order_by("-published_at", "-pk").values_list("pk", flat=True)[:most])


def athletes(query):
    """Athletes whose name or nation matches every term. Any athlete or nation renamed may
    start or stop matching, so a kept page of results depends on them all."""
    if not query:
        return Athlete.objects.none()
    matching = Athlete.objects.select_related("nation").declaring(all_tag(Athlete), all_tag(Nation))
    return _backend().athletes(matching, query.terms)


def events(query):
    """Events whose name, sport, venue or competition matches every term (and, like
    `athletes`, a kept page of them depends on every event and competition)."""
    if not query:
        return Event.objects.none()
    matching = Event.objects.select_related("competition").declaring(
        all_tag(Event), all_tag(Competition)
    )
    return _backend().events(matching, query.terms)


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
    # newsroom_english and newsroom_simple are PostgreSQL's english and simple configurations
    # with `unaccent` first (migration 0005), so "elodie" finds "Élodie".
    STEMMED, AS_WRITTEN = "newsroom_english", "newsroom_simple"
    VECTOR_SQL = """
        setweight(to_tsvector('newsroom_english', title), 'A')
        || setweight(to_tsvector('newsroom_simple', title), 'A')
        || setweight(to_tsvector('newsroom_english', standfirst), 'B')
        || setweight(to_tsvector('newsroom_simple', standfirst), 'B')
        || setweight(to_tsvector('newsroom_english', body), 'C')
        || setweight(to_tsvector('newsroom_simple', body), 'C')
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
            (self._term(term, self.STEMMED) | self._term(term, self.AS_WRITTEN) for term in terms),
        )

    def _term(self, term, config):
        # The exact word beside its prefix matches nothing more (the prefix covers it), but gives
        # PostgreSQL's planner an estimate: it has none for a prefix alone, and took a word in
        # every story for a rare one, ranking all 100,000 matches instead of the newest.
        query = SearchQuery(Lexeme(term) | Lexeme(term, prefix=True), config=config)
        for spaced in spellings(term)[1:]:
            # "1000 m" as a phrase, without stop words dropped ("s" is one in English).
            query |= SearchQuery(spaced, search_type="phrase", config=self.AS_WRITTEN)
        return query

    def _headline(self, field, query, **options):
        return SearchHeadline(
            field, query, config=self.AS_WRITTEN, start_sel=MARK_START, stop_sel=MARK_END, **options
        )

    def _rank_names(self, queryset, fields, terms):
        """Names are few and short: an on-the-fly unstemmed vector is enough, no index needed."""
        query = reduce(and_, (self._term(term, self.AS_WRITTEN) for term in terms))
        vector = SearchVector(*fields, config=self.AS_WRITTEN)
        return (
            queryset.alias(vector=vector)
            .filter(vector=query)
            .annotate(rank=SearchRank(vector, query))
        )


class SQLiteBackend:
    """Two FTS5 tables with the same rows: WORDS holds the words as written (prefixes: "Olympi"
    finds "Olympic"), STEMS their Porter stems ("olympics" finds "Olympic"). A term matches a
    story when either table finds it there; ranks and highlights come from STEMS, or WORDS
    for a story only a prefix found."""

    # SQL below is built from these constants only; reader input is always a query parameter.
    WORDS = "articles_article_fts"
    STEMS = "articles_article_fts_stems"
    TABLES = (STEMS, WORDS)  # the order highlights are looked for
    TERM_IDS = (
        f"SELECT rowid FROM {WORDS} WHERE {WORDS} MATCH %s "  # noqa: S608
        f"UNION SELECT rowid FROM {STEMS} WHERE {STEMS} MATCH %s"
    )

    def __init__(self, connection):
        self.connection = connection

    def matching(self, queryset, terms):
        for term in terms:
            match = self._match(term)
            queryset = queryset.filter(pk__in=RawSQL(self.TERM_IDS, [match, match]))  # noqa: S611
        return queryset

    def articles(self, queryset, terms):
        match = " OR ".join(self._match(term) for term in terms)
        rank = " + ".join(
            f"COALESCE({self._own_row(table, f'-bm25({table}, 10.0, 4.0, 1.0)')}, 0)"
            for table in self.TABLES
        )
        return (
            self.matching(queryset, terms)
            .annotate(
                rank=RawSQL(rank, [match] * len(self.TABLES), output_field=FloatField()),  # noqa: S611
                title_marked=self._marked("highlight({table}, 0, %s, %s)", match, "title"),
                standfirst_marked=self._marked(
                    "highlight({table}, 1, %s, %s)", match, "standfirst"
                ),
                # No fallback to the whole body: an excerpt only shows matched text.
                body_marked=self._marked("snippet({table}, 2, %s, %s, ' … ', 32)", match, None),
            )
            .order_by("-rank", "-published_at", "-pk")
        )

    @staticmethod
    def _match(term):
        # Terms hold letters and digits only, so quoting them leaves no FTS5 syntax to abuse.
        # The first spelling is a prefix (as you type); "1000 m" is a phrase.
        first, *others = spellings(term)
        alternatives = [f'"{first}"*', *(f'"{other}"' for other in others)]
        return alternatives[0] if not others else f"({' OR '.join(alternatives)})"

    def athletes(self, queryset, terms):
        fields = ("name", "nation__name", "nation__code")
        return queryset.filter(self._contains_all(fields, terms)).order_by("name")

    def events(self, queryset, terms):
        fields = ("name", "sport", "competition__name", "venue")
        return queryset.filter(self._contains_all(fields, terms)).order_by("-starts_at")

    def index(self, pks):
        with self.connection.cursor() as cursor:
            for table in self.TABLES:
                copy = (
                    f"INSERT INTO {table} (rowid, title, standfirst, body) "  # noqa: S608
                    "SELECT id, title, standfirst, body FROM articles_article"
                )
                if pks is None:
                    cursor.execute(f"DELETE FROM {table}")  # noqa: S608
                    cursor.execute(copy)
                elif pks:
                    cursor.execute(f"DELETE FROM {table} WHERE rowid IN {self._list(pks)}", pks)  # noqa: S608
                    cursor.execute(f"{copy} WHERE id IN {self._list(pks)}", pks)

    def unindex(self, pks):
        if pks:
            with self.connection.cursor() as cursor:
                for table in self.TABLES:
                    cursor.execute(f"DELETE FROM {table} WHERE rowid IN {self._list(pks)}", pks)  # noqa: S608

    @staticmethod
    def _own_row(table, expression):
        """A correlated subquery reading the outer article's own row of an FTS5 table."""
        return (
            f"(SELECT {expression} FROM {table} "  # noqa: S608
            f"WHERE {table} MATCH %s AND rowid = articles_article.id)"
        )

    def _marked(self, expression, match, column):
        """The column with its matches marked, from the first table that matches the story
        (else the article's own `column`, or NULL)."""
        marks = [MARK_START, MARK_END]
        sql = ", ".join(
            self._own_row(table, expression.format(table=table)) for table in self.TABLES
        )
        params = [*marks, match] * len(self.TABLES)
        fallback = f"articles_article.{column}" if column else "NULL"
        return RawSQL(f"COALESCE({sql}, {fallback})", params, TextField())  # noqa: S611

    @staticmethod
    def _list(pks):
        return f"({', '.join(['%s'] * len(pks))})"

    @staticmethod
    def _contains_all(fields, terms):
        """The simplest honest match for short names: every term appears in one of the fields,
        compared without case or accents (SQLite's own LIKE folds ASCII letters only)."""
        return reduce(
            and_,
            (
                reduce(
                    or_,
                    (
                        Q(Contains(Folded(F(field)), fold(spelling)))
                        for field in fields
                        for spelling in spellings(term)
                    ),
                )
                for term in terms
            ),
        )


BACKENDS = {"postgresql": PostgresBackend, "sqlite": SQLiteBackend}
