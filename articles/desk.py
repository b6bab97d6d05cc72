"""The editors' desk: what the story admin adds so that nothing typed is lost.

DeskAdmin (a mixin for ArticleAdmin) keeps a revision of every save (articles/revisions.py) with
a history to compare and restore; refuses a save over another editor's newer save, showing
both versions (the form carries the `desk_version` it was opened at, which live coverage
and results never move); shows who else has the story
open (a heartbeat kept in the cache for PRESENCE_SECONDS); stores what an editor types as an
Autosave while they type and offers it back when they return. Its script (static/js/desk.js)
adds the live word count, the unsaved-changes question, autosave and the heartbeat; without
JavaScript the form works as before and the offers are plain links.
"""

import time

import reversion
from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from newsroom import dates

from . import revisions
from .models import Autosave

PRESENCE_SECONDS = 45  # a heartbeat every 15 s (desk.js); gone after three are missed
AUTOSAVED_FIELDS = ("title", "standfirst", "body", "hero_alt", "hero_caption", "hero_credit")
WORDS_PER_MINUTE = 220


def display_name(user):
    """How the desk names a colleague: their full name, else their username."""
    return (user.get_full_name() or user.get_username()) if user else "Someone"


def reading_figures(*texts):
    """(words, minutes to read) of these texts, as the story page counts them."""
    words = sum(len((text or "").split()) for text in texts)
    return words, max(1, round(words / WORDS_PER_MINUTE))


def version_token(article):
    """What the form remembers of the story it was opened on: its desk_version, which only
    editors' saves move (live coverage, entries and results change updated_at, not it)."""
    return str(article.desk_version) if article and article.pk else ""


class Presence:
    """Who has a story's change page open: {user id: (name, last heartbeat)} in the cache."""

    @staticmethod
    def _key(pk):
        return f"desk:presence:{pk}"

    @classmethod
    def beat(cls, pk, user):
        """Record that `user` has story `pk` open; returns the names of the others."""
        now = time.time()
        present = {
            uid: seen
            for uid, seen in (cache.get(cls._key(pk)) or {}).items()
            if now - seen[1] < PRESENCE_SECONDS and uid != user.pk
        }
        others = sorted(name for name, _seen in present.values())
        present[user.pk] = (display_name(user), now)
        cache.set(cls._key(pk), present, PRESENCE_SECONDS)
        return others

    @classmethod
    def leave(cls, pk, user):
        present = cache.get(cls._key(pk)) or {}
        if present.pop(user.pk, None):
            cache.set(cls._key(pk), present, PRESENCE_SECONDS)


class DeskFormMixin:
    """Form mixin made per request by DeskAdmin.get_form: refuses a save over a newer save
    (`conflict` is then the story as saved, and who saved it), and can start from an
    Autosave (`autosave_data`)."""

    conflict = None
    autosave_data = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.autosave_data and not self.is_bound:
            for name in AUTOSAVED_FIELDS:
                if name in self.autosave_data and name in self.fields:
                    self.initial[name] = self.autosave_data[name]

    def clean(self):
        cleaned = super().clean()
        article = self.instance
        if not self.is_bound or article.pk is None:
            return cleaned
        seen = self.data.get("desk_version", "")
        saved = type(article).objects.filter(pk=article.pk).first()
        if saved and seen and seen != version_token(saved):
            # Who saved since: the newest version, if it is of the story as saved now (none is
            # when the change was made outside the admin's saves).
            latest = revisions.versions_of(saved).first()
            if latest is None or latest.field_dict.get("desk_version") != saved.desk_version:
                latest = None
            self.conflict = {
                "article": saved,
                "by": display_name(latest.revision.user) if latest else "Someone",
                "at": latest.revision.date_created if latest else saved.updated_at,
            }
            raise forms.ValidationError(
                f"{self.conflict['by']} saved this story at "
                f"{dates.shown(self.conflict['at'], 'TIME_FORMAT')} while you were editing it. "
                "Nothing was overwritten: your version is kept in the form below, theirs is "
                "shown above it. Take what you need from theirs, then save again to replace it.",
                code="conflict",
            )
        return cleaned


class DeskAdmin:
    """ModelAdmin mixin for stories (put it before EditorModelAdmin); see the module's doc."""

    change_form_template = "admin/articles/article/desk_change_form.html"
    object_history_template = "admin/articles/article/desk_history.html"

    class Media:
        js = ["js/desk.js", "js/admin_fields.js"]
        css = {"all": ["css/desk.css"]}

    # Revisions: every save of the form and every action keeps a version.

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with reversion.create_revision():
            reversion.set_user(request.user)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(entry.get_change_message() or "Created.")
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(entry.get_change_message() or "Saved with no changes.")
        return entry

    def response_action(self, request, queryset, *args, **kwargs):
        """Run an action; each story it changed (its updated_at moved) gets a version, all in
        one revision named after the action (publish, unpublish, and any added later), and an
        entry in the admin's log."""
        name = request.POST.get("action", "")
        selected = queryset
        if request.POST.get("select_across") != "1":
            picked = [pk for pk in request.POST.getlist(ACTION_CHECKBOX_NAME) if pk.isdigit()]
            selected = queryset.filter(pk__in=picked)
        before = dict(selected.values_list("pk", "updated_at"))
        response = super().response_action(request, queryset, *args, **kwargs)
        changed = [
            a for a in self.model.objects.filter(pk__in=before) if a.updated_at != before[a.pk]
        ]
        if changed:  # an editor's change: forms opened before it are out of date
            for article in changed:
                article.desk_version += 1
            self.model.objects.bulk_update(changed, ["desk_version"])
            label = getattr(getattr(self, name, None), "short_description", name)
            revisions.record(changed, user=request.user, comment=str(label))
            for article in changed:  # and in the admin's log, like a save from the form
                self.log_change(request, article, str(label))
        return response

    def save_model(self, request, obj, form, change):
        if change:  # an editor's save: forms opened on the version before are out of date
            saved = type(obj).objects.filter(pk=obj.pk).values_list("desk_version", flat=True)
            obj.desk_version = (saved.first() or 0) + 1
        super().save_model(request, obj, form, change)
        Autosave.objects.filter(user=request.user, article=obj if change else None).delete()

    # The form: conflict check, autosave offer, presence.

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        attrs = {}
        if request.method == "GET" and request.GET.get("autosave") == "restore":
            autosave = self._autosave(request, obj)
            attrs["autosave_data"] = autosave.data if autosave else None
        return type(form.__name__, (DeskFormMixin, form), attrs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.pop("autosave", None)
        return initial

    def _autosave(self, request, article):
        return Autosave.objects.filter(user=request.user, article=article).first()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        if obj is not None and (form.conflict or not form.is_bound):
            seen = version_token(form.conflict["article"] if form.conflict else obj)
        else:
            seen = request.POST.get("desk_version", version_token(obj))
        autosave = self._autosave(request, obj) if request.method == "GET" else None
        if autosave and (obj is None or autosave.saved_at > obj.updated_at):
            current = {name: str(form.initial.get(name) or "") for name in AUTOSAVED_FIELDS}
            if request.GET.get("autosave") == "restore" or all(
                autosave.data.get(name, "") == current[name] for name in AUTOSAVED_FIELDS
            ):
                autosave = None
        else:
            autosave = None
        text = [form[name].value() for name in ("standfirst", "body") if name in form.fields]
        words, minutes = reading_figures(*text)
        context.update(
            desk_version=seen,
            desk_conflict=form.conflict,
            desk_autosave=autosave,
            desk_others=Presence.beat(obj.pk, request.user) if obj is not None else [],
            desk_words=words,
            desk_minutes=minutes,
            desk_autosave_url=reverse(
                "admin:articles_article_autosave", args=[obj.pk if obj else "add"]
            ),
            desk_presence_url=reverse("admin:articles_article_presence", args=[obj.pk])
            if obj is not None
            else "",
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Extra pages: autosave, presence, history compare and restore.

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            ("<str:object_id>/autosave/", self.autosave_view, "autosave"),
            ("<path:object_id>/presence/", self.presence_view, "presence"),
            ("<path:object_id>/history/compare/", self.compare_view, "compare"),
            ("<path:object_id>/history/<int:version_id>/restore/", self.restore_view, "restore"),
        ]
        return [
            *(path(url, view(func), name=f"articles_article_{name}") for url, func, name in urls),
            *super().get_urls(),
        ]

    def _story_or_404(self, request, object_id):
        """The story `object_id` (as it comes in the URL) names; Http404 for none, including an
        id that is not a number at all ("abc", "4%00")."""
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404("No such story.")
        return article

    def _story(self, request, object_id, *, change):
        article = self._story_or_404(request, object_id)
        allowed = (
            self.has_change_permission(request, article)
            if change
            else self.has_view_or_change_permission(request, article)
        )
        if not allowed:
            raise PermissionDenied
        return article

    def autosave_view(self, request, object_id):
        """POST the form's text fields: stored as the editor's Autosave of the story (or of
        their new story, object_id "add"). Answers {"saved_at": "HH:MM"}."""
        if request.method != "POST":
            return JsonResponse({"error": "POST the form's fields."}, status=405)
        if object_id == "add":
            if not self.has_add_permission(request):
                raise PermissionDenied
            article = None
        else:
            article = self._story(request, object_id, change=True)
        data = {
            name: str(request.POST[name])[:100_000]
            for name in AUTOSAVED_FIELDS
            if name in request.POST
        }
        if not data:
            return JsonResponse({"error": "Nothing to keep."}, status=400)
        autosave, _created = Autosave.objects.update_or_create(
            user=request.user, article=article, defaults={"data": data}
        )
        return JsonResponse({"saved_at": dates.shown(autosave.saved_at, "TIME_FORMAT")})

    def presence_view(self, request, object_id):
        """POST a heartbeat (or `leave`): answers {"others": [names]} of others editing now."""
        if request.method != "POST":
            return JsonResponse({"error": "POST a heartbeat."}, status=405)
        article = self._story(request, object_id, change=True)
        if request.POST.get("leave"):
            Presence.leave(article.pk, request.user)
            return JsonResponse({"others": []})
        return JsonResponse({"others": Presence.beat(article.pk, request.user)})

    def history_view(self, request, object_id, extra_context=None):
        article = self._story_or_404(request, object_id)
        can_change = self.has_change_permission(request, article)
        versions = list(revisions.versions_of(article)) if can_change else []
        extra = {
            "desk_versions": [(v, display_name(v.revision.user)) for v in versions],
            "can_restore": can_change,
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, extra)

    def compare_view(self, request, object_id):
        """GET ?older=<version id>&newer=<version id>: what changed between two versions."""
        article = self._story(request, object_id, change=True)
        versions = revisions.versions_of(article)
        try:
            older = versions.get(pk=int(request.GET.get("older", "")))
            newer = versions.get(pk=int(request.GET.get("newer", "")))
        except (ValueError, versions.model.DoesNotExist):
            messages.error(request, "Choose two versions of this story to compare.")
            return HttpResponseRedirect(
                reverse("admin:articles_article_history", args=[article.pk])
            )
        if older.revision.date_created > newer.revision.date_created:
            older, newer = newer, older
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": article,
            "title": f"Compare versions of “{article}”",
            "older": (older, display_name(older.revision.user)),
            "newer": (newer, display_name(newer.revision.user)),
            "changes": revisions.compare(older, newer),
            "restore_url": reverse("admin:articles_article_restore", args=[article.pk, older.pk]),
        }
        return TemplateResponse(request, "admin/articles/article/desk_compare.html", context)

    def restore_view(self, request, object_id, version_id):
        """POST: the version's words become the story's newest version (a new save)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        article = self._story(request, object_id, change=True)
        version = get_object_or_404(revisions.versions_of(article), pk=version_id)
        revisions.restore(article, version, user=request.user)
        self.log_change(
            request,
            article,
            f"Restored the version of {dates.shown(version.revision.date_created)}.",
        )
        messages.success(
            request,
            f"Restored the version of {dates.shown(version.revision.date_created)} as a new "
            "version. Its publish time and status are unchanged.",
        )
        return HttpResponseRedirect(reverse("admin:articles_article_change", args=[article.pk]))
