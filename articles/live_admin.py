"""The live desk: editors post a live story's entries fast from the admin.

`/admin/articles/liveentry/` lists published stories to cover (live ones first); each story's
desk (`desk/<story pk>/`) has one box (Enter posts, Shift+Enter is a new line: live_desk.js; the
button posts without JavaScript), a "key event" tick, an optional picture with its alt text,
start and end of coverage, and the latest entries beneath with links to edit and delete them
(the admin's own views, then back here).
Posting needs ``articles.add_liveentry`` (the Editors group); starting or ending coverage
``articles.change_article``.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from newsroom.admin_base import EditorModelAdmin
from newsroom.text import has_visible
from newsroom.uploads import KeepsUploadsForm, discard_on_commit
from newsroom.xmltext import validate_xml_text

from . import images, live
from .images import HeroImageFormField, HeroImageNotStored, render_hero_image
from .models import Article, LibraryImage, LiveEntry

DESK_ENTRIES = 50
DESK_STORIES = 30


class EntryPictureForm(forms.ModelForm):
    """An entry's text, key-event tick and optional picture: uploaded here (validated,
    re-encoded and rendered like a hero image, alt text required), chosen from the image
    library (its alt text), or the story's hero picture (the alt text typed here, else the
    hero's). Editing an entry can replace its picture the same ways, or remove it."""

    picture_upload = HeroImageFormField(
        label="Picture",
        required=False,
        help_text="Optional. JPEG, PNG or WebP; shown in the entry at the reader's width.",
    )
    library_picture = forms.ModelChoiceField(
        label="Or a picture from the image library",
        queryset=LibraryImage.objects.all(),
        required=False,
        help_text="Shown with the library's alt text.",
    )
    use_hero = forms.BooleanField(
        label="Or the story's hero picture", required=False, help_text="Its renditions, as is."
    )
    remove_picture = forms.BooleanField(label="Remove the entry's picture", required=False)

    class Meta:
        model = LiveEntry
        fields = ["body", "key_event", "picture_alt"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3, "cols": 80, "autofocus": True})}

    field_order = [
        "body",
        "key_event",
        "picture_upload",
        "picture_alt",
        "library_picture",
        "use_hero",
        "remove_picture",
    ]

    trim_fields = True
    not_stored = ""  # set (on a subclass) when storage refused the upload on a first try

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].validators.append(validate_xml_text)
        self.fields["body"].help_text = "Markdown. Enter posts; Shift+Enter starts a new line."
        self.fields["picture_alt"].validators.append(validate_xml_text)
        self.rendered = None
        entry = self.instance
        story = entry.article if entry.article_id else None
        if self.trim_fields:  # the desk offers only what applies (the admin's fieldsets are fixed)
            if story is None or not story.hero_renditions:
                del self.fields["use_hero"]
            if entry.pk is None or not entry.has_picture:
                del self.fields["remove_picture"]
        if entry.pk is not None:
            self.fields["library_picture"].initial = entry.library_image_id
            if "use_hero" in self.fields:
                self.fields["use_hero"].initial = entry.hero_picture

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("picture_upload")
        chosen = [
            name
            for name in ("picture_upload", "library_picture", "use_hero")
            if cleaned.get(name) and (name == "picture_upload" or name in self.changed_data)
        ]
        if cleaned.get("remove_picture"):
            chosen.append("remove_picture")
        self.picture_change = chosen[0] if chosen else None
        if len(chosen) > 1:  # said beside the second choice (the desk shows no form-wide error)
            self.add_error(
                chosen[1],
                "Choose one picture: an upload, one from the library, the story's hero, or "
                "removing it.",
            )
            return cleaned
        story = cleaned.get("article") or (
            self.instance.article if self.instance.article_id else None
        )
        if self.picture_change in ("library_picture", "use_hero", "remove_picture"):
            self.instance.picture_renditions = []  # its own upload goes (files: on save)
        if self.picture_change == "use_hero" and not (story and story.hero_renditions):
            self.add_error("use_hero", "This story has no hero picture.")
        if upload and self.not_stored:
            self.add_error("picture_upload", self.not_stored)
        elif upload:
            if not has_visible(cleaned.get("picture_alt", "")):
                self.add_error("picture_alt", "Describe the picture for readers who cannot see it.")
            try:
                self.rendered = render_hero_image(upload, upload.name)
            except forms.ValidationError as error:
                self.add_error("picture_upload", error)
        elif self.picture_change in ("library_picture", "remove_picture"):
            cleaned["picture_alt"] = ""  # the library's alt text, or no picture
        elif not self.picture_change and not self.instance.has_picture:
            cleaned["picture_alt"] = ""  # no picture, nothing to describe
        return cleaned

    def _apply_picture(self, entry):
        """Set the entry's picture as chosen; returns the files stored for it."""
        change = getattr(self, "picture_change", None)
        if change is None:
            return []
        own = images.stored_hero_files(entry, **LiveEntry.PICTURE_FILES)
        if change == "picture_upload":
            entry.picture_renditions, stored = images.store_hero_image(
                entry, self.rendered, **LiveEntry.PICTURE_FILES
            )
            entry.library_image, entry.hero_picture = None, False
            return stored
        images.delete_files_on_commit(own)  # its own upload, replaced or removed
        entry.picture, entry.picture_renditions = "", []
        entry.library_image = (
            self.cleaned_data.get("library_picture") if change == "library_picture" else None
        )
        entry.hero_picture = change == "use_hero"
        return []

    def save(self, commit=True):
        """The entry; with `commit`, saved with its picture (see `save_entry`)."""
        entry = super().save(commit=False)
        return self.save_entry() if commit else entry

    def save_entry(self):
        """Save the form's entry with its picture (an upload's files all stored or none:
        HeroImageNotStored when storage refuses them, nothing saved)."""
        entry = self.instance
        stored = self._apply_picture(entry)
        try:
            with transaction.atomic():
                entry.save()
        except BaseException:
            images.delete_files(stored)
            raise
        return entry


DeskEntryForm = EntryPictureForm  # the desk's box for a new entry


def keeping_uploads(form_class, request):
    """`form_class` whose chosen picture is kept across a form error for this editor
    (newsroom/uploads.py: re-offered, not lost). The admin's own forms already are
    (KeepsUploadsAdmin): they are returned as they are."""
    if issubclass(form_class, KeepsUploadsForm):
        return form_class
    return type(
        form_class.__name__, (KeepsUploadsForm, form_class), {"kept_for_user": request.user.pk}
    )


@admin.register(LiveEntry)
class LiveEntryAdmin(EditorModelAdmin):
    list_display = ["__str__", "article", "key_event", "author", "created_at"]
    list_select_related = ["article", "author"]
    form = type("EntryAdminForm", (EntryPictureForm,), {"trim_fields": False})
    fields = ["article", *EntryPictureForm.field_order]
    raw_id_fields = ["article"]

    def get_readonly_fields(self, request, obj=None):
        return ["article"] if obj is not None else []  # an entry stays with its story

    def changeform_view(self, request, *args, **kwargs):
        """When storage refuses a new picture (a full disk), nothing is saved and the form is
        shown again, with what was typed and the reason beside the picture."""
        try:
            return super().changeform_view(request, *args, **kwargs)
        except HeroImageNotStored as error:
            request.entry_not_stored = str(error)
            return super().changeform_view(request, *args, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = keeping_uploads(super().get_form(request, obj, change, **kwargs), request)
        if getattr(request, "entry_not_stored", ""):
            form = type(form.__name__, (form,), {"not_stored": request.entry_not_stored})
        return form

    def save_model(self, request, entry, form, change):
        """Saves the entry with its picture replaced or removed as chosen (an edit reaches
        open pages as any edit does: articles/live.py)."""
        if not change:
            entry.author = request.user
        form.save_entry()
        discard_on_commit(form.kept_uploads())

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("desk/<int:article_pk>/", view(self.desk_view), name="articles_liveentry_desk"),
            *super().get_urls(),
        ]

    def _back_to_desk(self, entry):
        return HttpResponseRedirect(
            reverse("admin:articles_liveentry_desk", args=[entry.article_id])
        )

    def response_change(self, request, entry):
        if "_continue" in request.POST:
            return super().response_change(request, entry)
        super().response_change(request, entry)  # its message
        return self._back_to_desk(entry)

    def response_add(self, request, entry, post_url_continue=None):
        super().response_add(request, entry, post_url_continue)
        return self._back_to_desk(entry)

    def response_delete(self, request, obj_display, obj_id):
        article_pk = request.session.pop("live_desk_article", None)
        response = super().response_delete(request, obj_display, obj_id)
        if article_pk:
            return redirect("admin:articles_liveentry_desk", article_pk)
        return response

    def delete_view(self, request, object_id, extra_context=None):
        entry = LiveEntry.objects.filter(pk=object_id).only("article_id").first()
        if entry is not None:
            request.session["live_desk_article"] = entry.article_id
        return super().delete_view(request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        """The desk's front page: the stories an editor may cover, live ones first."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        stories = Article.objects.published().order_by(
            "live_ended_at", "-live_started_at", "-published_at"
        )[:DESK_STORIES]
        live_first = sorted(stories, key=lambda story: not story.is_live)
        context = {
            **self.admin_site.each_context(request),
            "title": "Live desk",
            "opts": self.opts,
            "stories": live_first,
        }
        return TemplateResponse(request, "admin/articles/liveentry/stories.html", context)

    def desk_view(self, request, article_pk):
        if not self.has_add_permission(request):
            raise PermissionDenied
        article = get_object_or_404(Article, pk=article_pk)
        desk_form = keeping_uploads(DeskEntryForm, request)
        form, status = desk_form(instance=LiveEntry(article=article)), 200
        if request.method == "POST":
            action = request.POST.get("action", "post")
            if action in ("start", "end"):
                if not request.user.has_perm("articles.change_article"):
                    raise PermissionDenied
                if action == "start":
                    live.start_coverage(article)
                    self.message_user(request, "Live coverage started.", messages.SUCCESS)
                else:
                    live.end_coverage(article)
                    self.message_user(request, "Live coverage ended.", messages.SUCCESS)
                return redirect("admin:articles_liveentry_desk", article.pk)
            form = desk_form(
                request.POST,
                request.FILES,
                instance=LiveEntry(article=article, author=request.user),
            )
            if form.is_valid():
                try:
                    entry = form.save()
                except HeroImageNotStored as error:
                    form.add_error("picture_upload", str(error))
                else:
                    discard_on_commit(form.kept_uploads())
                    self.log_addition(request, entry, [{"added": {}}])
                    self.message_user(request, "Posted.", messages.SUCCESS)
                    return redirect("admin:articles_liveentry_desk", article.pk)
            status = 400  # the typed text stays in the box
        context = {
            **self.admin_site.each_context(request),
            "title": f"Live desk: {article.title}",
            "opts": self.opts,
            "article": article,
            "form": form,
            "entries": article.live_entries.select_related("author").order_by("-created_at", "-pk")[
                :DESK_ENTRIES
            ],
            "can_change_story": request.user.has_perm("articles.change_article"),
        }
        return TemplateResponse(
            request, "admin/articles/liveentry/desk.html", context, status=status
        )
