"""Search finds stems and ignores accents on both databases (see articles/search.py).

SQLite: a second FTS5 table with the Porter stems of the words (the first keeps the words as
written, for prefixes). PostgreSQL: text search configurations that drop accents (`unaccent`)
before the english and simple dictionaries. Then every article is indexed again: the index is
derived data, rebuilt from articles_article.
"""

from django.db import migrations

POSTGRES_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION newsroom_english (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION newsroom_english "
    "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
    "CREATE TEXT SEARCH CONFIGURATION newsroom_simple (COPY = simple)",
    "ALTER TEXT SEARCH CONFIGURATION newsroom_simple "
    "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple",
]
# Stored vectors are plain words and keep working; `rebuild_search_index` refreshes them.
POSTGRES_DROP = [
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS newsroom_english",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS newsroom_simple",
]
SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE articles_article_fts_stems USING fts5("
    "title, standfirst, body, tokenize = 'porter unicode61 remove_diacritics 2')",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS articles_article_fts_stems"]


def create(apps, schema_editor):
    from articles import search

    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}.get(vendor, []):
        schema_editor.execute(statement)
    if vendor in search.BACKENDS:
        search.index_articles(using=schema_editor.connection.alias)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0005_ioc_nations"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
