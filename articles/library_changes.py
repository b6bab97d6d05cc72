"""What follows a change of a library picture (articles/library.py): a story's stored HTML holds
its pictures' alt text and files, so when a picture is changed or deleted `refresh_stories`
renders again the stories showing it and purges their pages, and open live pages get the
entries showing it again. Connected in ArticlesConfig.ready through `connect`."""

from django.db.models.signals import post_delete, post_save, pre_delete

from newsroom import grip
from newsroom.caching import announce, tag_for

from . import images, live
from .library import reference
from .models import Article, LibraryImage
from .models.live import live_tag


def stories_showing(image_pk):
    """The stories whose body refers to library picture `image_pk`."""
    return Article.objects.filter(body__contains=reference(image_pk))


def refresh_stories(image_pk, using=None):
    """Render again the stored HTML of every story showing library picture `image_pk` (its alt
    text, caption or files changed, or it was deleted) and purge their pages."""
    stories = list(stories_showing(image_pk).using(using or "default"))
    for story in stories:
        story.render_body()
    if stories:
        Article.objects.using(using or "default").bulk_update(
            stories, ["body_html", "body_rendered_with"]
        )
        announce(*map(tag_for, stories), using=using)


def _live_entries_showing(image, using):
    """Purge the live entries of the stories whose entries show `image`."""
    stories = image.live_entries.using(using).values_list("article_id", flat=True).distinct()
    announce(*(live_tag(pk) for pk in stories), using=using)


def _push_entries_showing(image, using):
    """Open pages of live stories get the entries showing `image` again (its alt text or
    caption changed), as after an edit of those entries."""
    for entry in image.live_entries.using(using).select_related("author", "library_image"):
        grip.publish_on_commit(
            live.changes_channel(entry.article_id), live.entry_event(entry, new=False), using=using
        )


def _image_saved(sender, instance, created, using, raw=False, **kwargs):
    if raw:
        return
    refresh_stories(instance.pk, using=using)
    if not created:
        _live_entries_showing(instance, using)
        _push_entries_showing(instance, using)


def _image_deleting(sender, instance, using, **kwargs):
    _live_entries_showing(instance, using)  # before their entries lose it


def _image_deleted(sender, instance, using, **kwargs):
    images.delete_files_on_commit(images.hero_files(instance, **instance.PICTURE_FILES))
    refresh_stories(instance.pk, using=using)


def connect():
    post_save.connect(_image_saved, sender=LibraryImage, dispatch_uid="library.image.saved")
    pre_delete.connect(_image_deleting, sender=LibraryImage, dispatch_uid="library.image.deleting")
    post_delete.connect(_image_deleted, sender=LibraryImage, dispatch_uid="library.image.deleted")
