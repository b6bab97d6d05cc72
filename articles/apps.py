from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Stories and results"

    def ready(self):
        from . import (
            caching,
            library_changes,
            live,
            revisions,
            signals,  # noqa: F401 - connects the search index receivers
        )

        caching.connect()
        live.connect()
        library_changes.connect()
        revisions.register()
