from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_delete, post_migrate


def _sync_groups(sender, using, apps=global_apps, **kwargs):
    # `migrate` passes its historical apps; `flush` (as in transactional tests) passes none.
    from newsroom.roles import sync_groups

    sync_groups(apps, using=using)


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self):
        from articles.models import Article
        from newsroom import checks  # noqa: F401 - registers the deployment checks
        from newsroom.caching import register_filler

        from . import caching, display
        from .models import Comment, remember_erased_import

        post_migrate.connect(_sync_groups, sender=self, dispatch_uid="newsroom-sync-groups")
        caching.connect()
        # The comments under a story are its page's one hole (see display.section_html).
        register_filler(display.SECTION_HOLE, display.fill_section)
        # An imported story or comment deleted here is not brought back by a later import.
        for model in (Article, Comment):
            post_delete.connect(
                remember_erased_import, sender=model, dispatch_uid=f"erased-import-{model.__name__}"
            )
