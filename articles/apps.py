from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Stories and results"

    def ready(self):
        from newsroom import pagecache

        from . import signals  # noqa: F401 - connects the search index receivers

        pagecache.connect_signals()
