"""The staff groups and exactly what each may do. Synced by a data migration and after every
migrate, so permissions of models added later join their group too."""

from django.contrib.auth.management import create_permissions

EDITOR_MODELS = {
    "articles": [
        "article",
        "section",
        "tag",
        "competition",
        "event",
        "nation",
        "athlete",
        "result",
        "liveentry",
        "oldlink",
        "byline",
        "libraryimage",
    ],
}
GROUP_PERMISSIONS = {
    "Editors": [
        *(
            f"{app}.{action}_{model}"
            for app, models in EDITOR_MODELS.items()
            for model in models
            for action in ("add", "change", "delete", "view")
        ),
        "articles.preview_article",
        # Authors: everyone with a role sees them; each edits their own (articles.admin's
        # AuthorAdmin decides that), superusers anyone's.
        "articles.view_author",
        # Corrections and updates are append-only: added and seen, never changed or deleted.
        "articles.add_correction",
        "articles.view_correction",
    ],
    "Moderators": [
        "comments.view_comment",
        "comments.change_comment",
        "comments.add_comment",
        "comments.delete_comment",
        "comments.view_ban",
        "comments.add_ban",
        "comments.change_ban",
        "articles.view_article",
        "articles.view_author",
    ],
}


def sync_groups(apps, using="default"):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        if app_config.label in {"articles", "comments", "auth", "contenttypes"}:
            # Historical app configs have no models module, which create_permissions requires.
            was = getattr(app_config, "models_module", None)
            app_config.models_module = was or True
            create_permissions(app_config, verbosity=0, apps=apps, using=using)
            app_config.models_module = was
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        wanted = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            wanted += list(
                Permission.objects.using(using).filter(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group.permissions.set(wanted)
