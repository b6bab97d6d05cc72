"""The search index, which exists in a different shape on each database (see articles/search.py).

PostgreSQL: a tsvector column with a GIN index. It is not a model field, so SQLite (and every
query that does not search) never sees it. SQLite: an FTS5 table beside articles_article.
"""

from django.db import migrations

POSTGRES_CREATE = [
    "ALTER TABLE articles_article ADD COLUMN search_vector tsvector",
    "CREATE INDEX article_search_idx ON articles_article USING gin (search_vector)",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS article_search_idx",
    "ALTER TABLE articles_article DROP COLUMN IF EXISTS search_vector",
]
SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE articles_article_fts USING fts5("
    "title, standfirst, body, tokenize = 'unicode61 remove_diacritics 2')",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS articles_article_fts"]


def create_index(apps, schema_editor):
    # No indexing here: the index's final shape comes in 0005, which fills it with the current
    # code of articles/search.py (that code needs 0005's tables and configurations).
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}.get(vendor, []):
        schema_editor.execute(statement)


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_result_rank_follows_status"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
