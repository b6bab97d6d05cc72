"""Which tags a change to stories and results touches (see newsroom.caching).

Connected in ArticlesConfig.ready(). Saves and deletes announce the changed object's tag; a
created or deleted object also its model's collection ("event-list"). A story counts for the
listings (home, sections, feeds, sitemaps, search: "article-list") when it is published or
scheduled before or after the change: a draft being edited changes no public page. Such a
change also announces the stories filed under each section, tag and event it is or was filed
under ("section-3-stories", see stories_tag): what related stories and event and athlete pages
list, so that an edit to one story leaves the pages of unrelated stories kept. A result
changes its event (and every story covering it), its competition's medal table (its own tag,
"medals-N": not the competition's, which every page of its events shows) and its athlete's
page. A renamed user or Author changes the bylines of their stories; a byline added
or removed changes the story and the author's page.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from newsroom.caching import all_tag, announce, list_tag, remember, store, tag_for

from .models import (
    Article,
    Athlete,
    Author,
    Byline,
    Competition,
    Correction,
    Event,
    Nation,
    Result,
    Section,
    Tag,
)
from .models.results import medals_tag
from .models.stories import stories_tag

# An Author's tag is declared wherever their name shows (bylines, feeds, their page): a
# renamed author purges exactly those pages.
OBJECTS = (Section, Tag, Competition, Nation, Athlete, Event, Author)
BYLINE_FIELDS = ("first_name", "last_name", "username")


def _object_saved(sender, instance, created, using, **kwargs):
    announce(tag_for(instance), all_tag(sender), list_tag(sender) if created else None, using=using)


def _object_deleted(sender, instance, using, **kwargs):
    # A deleted section, tag or event leaves its stories' listings (its links go with it,
    # and no m2m_changed is sent for them).
    filed = stories_tag(instance) if sender in (Section, Tag, Event) else None
    announce(tag_for(instance), all_tag(sender), list_tag(sender), filed, using=using)


# What decides whether and where a story is listed, and in what order (published(), the
# listings' order, the section): a live story's change to one of them moves it in or out of
# other pages' lists of stories (stories_tag). Any other change (a typo in the title) shows
# only where the story itself is shown, which declares its own tag.
LISTING_FIELDS = ("status", "published_at", "unpublish_at", "section_id")


def _article_before_save(sender, instance, raw, **kwargs):
    """Note whether the story was live (published or scheduled) and how it was listed."""
    instance._was_live, instance._listed_before = False, None
    if instance._state.adding:  # a new story was live nowhere: nothing to read
        return
    old = Article.objects.filter(pk=instance.pk).values(*LISTING_FIELDS).first()
    if old is not None:
        instance._was_live = old["status"] in Article.LIVE_STATUSES
        instance._listed_before = old


def _article_saved(sender, instance, created, using, **kwargs):
    live = instance.status in Article.LIVE_STATUSES or getattr(instance, "_was_live", False)
    if not live:
        announce(tag_for(instance), using=using)
        return
    before = getattr(instance, "_listed_before", None)
    if before == {field: getattr(instance, field) for field in LISTING_FIELDS}:
        announce(tag_for(instance), *public_listing_tags(), using=using)
        return
    old_section = before and stories_tag(Section, before["section_id"])
    announce(tag_for(instance), *public_listing_tags(instance), old_section, using=using)


def _article_before_delete(sender, instance, **kwargs):
    """Note what a live story's deletion touches while its tags and events are still linked."""
    live = instance.status in Article.LIVE_STATUSES
    instance._listings = public_listing_tags(instance) if live else ()


def _article_deleted(sender, instance, using, **kwargs):
    announce(tag_for(instance), *getattr(instance, "_listings", ()), using=using)


def public_listing_tags(*stories):
    """What a change to published or scheduled `stories` (Articles) touches besides the
    stories themselves (a tuple of tags): every listing of stories ("article-list",
    "article-all") and the stories filed under each section, tag and event they are filed
    under now (`stories_tag`; two queries, for their tags and events, when `stories` are
    given)."""
    tags = [list_tag(Article), all_tag(Article)]
    if stories:
        pks = [story.pk for story in stories]
        tags += [stories_tag(Section, pk) for pk in {story.section_id for story in stories}]
        for field, model in (("tags", Tag), ("events", Event)):
            through = getattr(Article, field).through
            column = f"{model._meta.model_name}_id"
            linked = through.objects.filter(article_id__in=pks).values_list(column, flat=True)
            tags += [stories_tag(model, pk) for pk in set(linked)]
    return tuple(tags)


def _article_linked(sender, instance, action, using, model, pk_set, **kwargs):
    """Tags or events added to or removed from a story (or stories from a tag or event)."""
    if action == "pre_clear":  # the links about to go: post_clear is not told which
        source, target = instance._meta.model_name, model._meta.model_name
        linked = sender.objects.filter(**{f"{source}_id": instance.pk})
        instance._unlinked = set(linked.values_list(f"{target}_id", flat=True))
        return
    if not action.startswith("post_"):
        return
    if action == "post_clear":
        pk_set = instance.__dict__.pop("_unlinked", set())
    if isinstance(instance, Article):
        stories, filed_under = [instance], [(model, pk) for pk in pk_set or ()]
    else:
        stories = list(Article.objects.filter(pk__in=pk_set or ()))
        filed_under = [(type(instance), instance.pk)]
    live = [story for story in stories if story.status in Article.LIVE_STATUSES]
    announce(
        *map(tag_for, stories),
        *(tag_for(*place) for place in filed_under if live),
        *(stories_tag(*place) for place in filed_under if live),
        *(public_listing_tags(*live) if live else ()),
        using=using,
    )


def _author_saved(sender, instance, using, **kwargs):
    """Stories with no byline show their writer's name: profile or not, the user's tag too."""
    announce(tag_for(get_user_model(), instance.user_id), using=using)


def _byline_changed(sender, instance, using, **kwargs):
    """An author added to or taken off a story: the story, and their author page."""
    live = Article.objects.filter(pk=instance.article_id, status__in=Article.LIVE_STATUSES)
    announce(
        tag_for(Article, instance.article_id),
        tag_for(Author, instance.author_id),
        *(public_listing_tags() if live.exists() else ()),
        using=using,
    )


def _correction_added(sender, instance, using, **kwargs):
    """A note shows on its story, in its structured data and in the feeds."""
    announce(tag_for(Article, instance.article_id), *public_listing_tags(), using=using)


def _result_before_save(sender, instance, raw, **kwargs):
    """Note the event and athlete a result belonged to (a correction may move it)."""
    placed = Result.objects.filter(pk=instance.pk) if instance.pk else Result.objects.none()
    instance._placed_before = placed.values_list("event_id", "athlete_id").first()


def _result_changed(sender, instance, using, **kwargs):
    """A result's event and athlete, before and after the change, and their medal tables."""
    before = getattr(instance, "_placed_before", None) or (None, None)
    events = {instance.event_id, before[0]} - {None}
    athletes = {instance.athlete_id, before[1]} - {None}
    competitions = Event.objects.filter(pk__in=events).values_list("competition_id", flat=True)
    announce(
        *(tag_for(Event, pk) for pk in events),
        all_tag(Event),  # an event's last change is read in aggregates (the sitemap index)
        *(tag_for(Athlete, pk) for pk in athletes),
        *map(medals_tag, set(competitions)),
        using=using,
    )


def _user_before_save(sender, instance, raw, update_fields=None, **kwargs):
    instance._byline_changed = False
    if instance._state.adding or (update_fields and not set(update_fields) & set(BYLINE_FIELDS)):
        return  # a new user has no byline yet; a login only stamps last_login
    old = sender.objects.filter(pk=instance.pk).values(*BYLINE_FIELDS).first()
    instance._byline_changed = bool(old) and any(
        old[field] != getattr(instance, field) for field in BYLINE_FIELDS
    )


def _user_saved(sender, instance, using, **kwargs):
    if getattr(instance, "_byline_changed", False):
        announce(tag_for(instance), *public_listing_tags(), using=using)


def next_go_live():
    """When the next scheduled story goes live or a story's take-down time comes (an aware
    datetime), or None: nothing public is kept past it. Kept itself until a story changes,
    and never past that moment."""
    from django.db.models import Min, Q

    def find():
        now = timezone.now()
        moments = Article.objects.filter(
            Q(published_at__gt=now) | Q(unpublish_at__gt=now), status__in=Article.LIVE_STATUSES
        ).aggregate(
            go_live=Min("published_at", filter=Q(published_at__gt=now)),
            take_down=Min("unpublish_at", filter=Q(unpublish_at__gt=now)),
        )
        return min(filter(None, moments.values()), default=None)

    at = remember(("next-go-live",), find, 300)
    if at is not None and at <= timezone.now():
        # Its moment has passed: the story is live now; find the one after it.
        store.purge(public_listing_tags())
        at = find()
    return at


def _event_before_save(sender, instance, raw, **kwargs):
    """Note the competition an event belonged to before this save (None when new)."""
    instance._competition_before = (
        Event.objects.filter(pk=instance.pk).values_list("competition_id", flat=True).first()
        if instance.pk
        else None
    )


def _event_saved(sender, instance, using, **kwargs):
    """An event that joins or leaves a competition moves its medals between medal tables."""
    before = getattr(instance, "_competition_before", None)
    if before != instance.competition_id:
        announce(medals_tag(instance.competition_id), before and medals_tag(before), using=using)


def connect():
    for model in OBJECTS:
        uid = model._meta.label_lower
        post_save.connect(_object_saved, sender=model, dispatch_uid=f"caching.saved.{uid}")
        post_delete.connect(_object_deleted, sender=model, dispatch_uid=f"caching.deleted.{uid}")
    pre_save.connect(_article_before_save, sender=Article, dispatch_uid="caching.article.pre")
    post_save.connect(_article_saved, sender=Article, dispatch_uid="caching.article.saved")
    pre_delete.connect(_article_before_delete, sender=Article, dispatch_uid="caching.article.pre-d")
    post_delete.connect(_article_deleted, sender=Article, dispatch_uid="caching.article.deleted")
    for through in (Article.tags.through, Article.events.through):
        m2m_changed.connect(
            _article_linked, sender=through, dispatch_uid=f"caching.linked.{through._meta.label}"
        )
    post_save.connect(_author_saved, sender=Author, dispatch_uid="caching.author.user")
    post_save.connect(_byline_changed, sender=Byline, dispatch_uid="caching.byline.saved")
    post_delete.connect(_byline_changed, sender=Byline, dispatch_uid="caching.byline.deleted")
    post_save.connect(_correction_added, sender=Correction, dispatch_uid="caching.correction")
    post_delete.connect(_correction_added, sender=Correction, dispatch_uid="caching.correction.d")
    pre_save.connect(_event_before_save, sender=Event, dispatch_uid="caching.event.pre")
    post_save.connect(_event_saved, sender=Event, dispatch_uid="caching.event.medals")
    pre_save.connect(_result_before_save, sender=Result, dispatch_uid="caching.result.pre")
    post_save.connect(_result_changed, sender=Result, dispatch_uid="caching.result.saved")
    post_delete.connect(_result_changed, sender=Result, dispatch_uid="caching.result.deleted")
    user = get_user_model()
    pre_save.connect(_user_before_save, sender=user, dispatch_uid="caching.user.pre")
    post_save.connect(_user_saved, sender=user, dispatch_uid="caching.user.saved")
    store.register_expiry(next_go_live)
