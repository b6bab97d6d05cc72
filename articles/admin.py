import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseNotAllowed, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from newsroom.admin_base import EditorModelAdmin, LocalDateTimeField, LocalDateTimeWidget
from newsroom.caching import all_tag, announce, list_tag, tag_for
from newsroom.dates import shown

from . import (
    images,
    library_admin,
    live_admin,  # noqa: F401  (registers the live desk)
    markdown,
    publishing,
    redirects,
    redirects_admin,  # noqa: F401  (registers the old links)
    results_admin,  # noqa: F401  (registers the results admins)
)
from .caching import public_listing_tags
from .desk import DeskAdmin
from .images import HeroImageFormField
from .models import Article, Author, Byline, Correction, Section, Tag

logger = logging.getLogger(__name__)


class ArticleAdminForm(forms.ModelForm):
    """Renders a new hero image while the form is validated, so a picture that cannot be
    converted is an error beside the field, and nothing is stored before the article is."""

    # Set (on a subclass, by ArticleAdmin.get_form) when storing the picture failed on the first
    # try of this request: the form is shown again with this message beside the image.
    hero_not_stored = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "body" in self.fields:  # where body_preview.js asks for the live preview
            self.fields["body"].widget.attrs["data-preview-url"] = reverse(
                "admin:articles_article_preview_body"
            )

    def clean_hero_image(self):
        """The uploaded picture, with its rendering kept in `self.rendered_hero`."""
        image = self.cleaned_data.get("hero_image")
        self.rendered_hero = None
        if image and "hero_image" in self.changed_data:
            if self.hero_not_stored:
                raise forms.ValidationError(self.hero_not_stored, code="not_stored")
            self.rendered_hero = images.render_hero_image(image)
        return image

    def clean(self):
        """The publishing button pressed (Publish now, Schedule, Unpublish) decides the status;
        a scheduled or take-down time in the past is refused (see articles.publishing)."""
        cleaned = super().clean()
        publishing.settle(self, publishing.intent(self.data))
        return cleaned


class ScheduleForm(forms.Form):
    """When the Schedule action's stories go live: a moment in the future."""

    go_live_at = LocalDateTimeField(label="Go live at", widget=LocalDateTimeWidget)

    def clean_go_live_at(self):
        at = self.cleaned_data["go_live_at"]
        if at is None:
            raise forms.ValidationError("Choose when the stories should go live.")
        if at <= timezone.now():
            raise forms.ValidationError(
                f"{shown(at)} has already passed: scheduled for then, the stories would go "
                "live at once. Choose a later time, or use “Publish selected stories now”."
            )
        return at


def unpin_other_leads(article):
    """At most one story is the home page's lead: pinning `article` unpins the others (and
    the home page and listings that showed them are purged)."""
    others = Article.objects.filter(is_lead=True).exclude(pk=article.pk)
    announce(list_tag(Article), all_tag(Article), *map(tag_for, others))
    others.update(is_lead=False)


@admin.register(Section)
class SectionAdmin(EditorModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(EditorModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Author)
class AuthorAdmin(EditorModelAdmin):
    """The names readers see for staff. Everyone with a role sees the list (editors choose
    co-authors from it); each person adds and edits their own; superusers anyone's."""

    list_display = ["name", "slug", "user"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request):
        if request.user.is_superuser:
            return True
        return (
            self.has_view_permission(request)
            and not Author.objects.filter(user=request.user).exists()
        )

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser or (obj is not None and obj.user_id == request.user.pk)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_fields(self, request, obj=None):
        fields = ["name", "slug", "bio"]
        return ["user", *fields] if request.user.is_superuser else fields

    def save_model(self, request, author, form, change):
        if not request.user.is_superuser and not change:
            author.user = request.user  # one's own profile
        super().save_model(request, author, form, change)


class BylineInline(admin.StackedInline):
    """The story's authors, in the order the byline names them. Stacked: each field has its
    own label (a tabular row's position and delete box have none, which axe refuses)."""

    model = Byline
    fields = ["author", "position"]
    autocomplete_fields = ["author"]
    extra = 0
    verbose_name = "author on the byline"
    verbose_name_plural = "Byline (in order; empty: the account that wrote it)"


class CorrectionInline(admin.StackedInline):
    """Corrections and updates: added to a published story, never changed or deleted by
    editors (they have only the add and view permissions)."""

    model = Correction
    fields = ["kind", "text", "created_at", "created_by"]
    readonly_fields = ["created_at", "created_by"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return obj is not None and obj.is_published and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(DeskAdmin, EditorModelAdmin):
    list_display = ["title", "status_label", "section", "author", "published_at", "updated_at"]
    list_filter = ["status", "section", "tags", "comments_closed"]
    list_select_related = ["section", "author"]
    search_fields = ["title", "standfirst", "slug"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["tags", "events"]
    actions = ["publish", "schedule", "unpublish"]
    form = ArticleAdminForm
    inlines = [BylineInline, CorrectionInline]
    formfield_overrides = {models.ImageField: {"form_class": HeroImageFormField}}
    readonly_fields = ["hero_preview", "library_pictures", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "standfirst", "body", "library_pictures"]}),
        (
            "Publishing",
            {
                "fields": [
                    "status",
                    "published_at",
                    "unpublish_at",
                    "is_lead",
                    "section",
                    "tags",
                    "author",
                ]
            },
        ),
        (
            "Hero image",
            {"fields": ["hero_image", "hero_preview", "hero_alt", "hero_caption", "hero_credit"]},
        ),
        ("Results", {"fields": ["events"]}),
        (
            "Advanced",
            {
                "fields": ["slug", "comments_closed", "created_at", "updated_at"],
                "classes": ["collapse"],
            },
        ),
    ]

    class Media:
        # DeskAdmin is a plain mixin: Django does not merge its Media into this one.
        js = [*DeskAdmin.Media.js, "js/body_preview.js", "js/library_picker.js"]
        css = {"all": [*DeskAdmin.Media.css["all"], "css/body_preview.css"]}

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_body)  # staff only, CSRF-protected
        return [
            path("preview-body/", preview, name="articles_article_preview_body"),
            *super().get_urls(),
        ]

    def preview_body(self, request):
        """POST `body` (Markdown) -> JSON {"html": the sanitised HTML readers would get (the
        same renderer as a saved story), "removed": what the sanitiser dropped, in words (see
        markdown.removed_by_sanitiser)}, for the live preview beside the body box. 405 for
        another method, 403 for staff who may neither add nor change stories."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        body = request.POST.get("body", "")
        response = JsonResponse(
            {
                "html": markdown.render_markdown(body),
                "removed": markdown.removed_by_sanitiser(body),
            }
        )
        response["Cache-Control"] = "private, no-store"
        return response

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("section", "author")

    @admin.display(description="status", ordering="status")
    def status_label(self, article):
        return article.public_status

    @admin.display(description="pictures from the library")
    def library_pictures(self, article):
        return library_admin.picker_html()

    @admin.display(description="current image")
    def hero_preview(self, article):
        if not article.hero:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" width="240">', article.hero["src"], article.hero_alt
        )

    def view_on_site(self, article):
        if article.is_published:
            return article.get_absolute_url()
        return reverse("articles:preview", kwargs={"pk": article.pk})

    def changeform_view(self, request, *args, **kwargs):
        """If the article is not saved after all (an error after its hero image was stored),
        the stored files are deleted again: none is left that no article points at. If the
        picture itself could not be stored (a full disk), everything was rolled back and the
        form is shown again, with what was typed and the reason beside the image."""
        request.stored_hero_files = []
        try:
            return super().changeform_view(request, *args, **kwargs)
        except images.HeroImageNotStored as error:
            images.delete_files(request.stored_hero_files)
            logger.error("A hero image could not be stored: %s", error.__cause__)
            request.stored_hero_files = []
            request.hero_not_stored = str(error)
            return super().changeform_view(request, *args, **kwargs)
        except BaseException:
            images.delete_files(request.stored_hero_files)
            raise

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if getattr(request, "hero_not_stored", ""):
            form = type(form.__name__, (form,), {"hero_not_stored": request.hero_not_stored})
        return form

    def save_model(self, request, article, form, change):
        if article.is_lead:
            unpin_other_leads(article)
        # A published story's address readers may have linked to: kept as a redirect below.
        was_at = (
            Article.objects.published().filter(pk=article.pk).first()
            if change and "slug" in form.changed_data
            else None
        )
        if "hero_image" in form.changed_data:
            if article.hero_image:
                rendered = form.rendered_hero  # see ArticleAdminForm.clean_hero_image
                article.hero_renditions, stored = images.store_hero_image(article, rendered)
                request.stored_hero_files.extend(stored)  # see changeform_view
            else:
                images.delete_files_on_commit(images.stored_hero_files(article))
                article.hero_renditions = []
        super().save_model(request, article, form, change)
        if "slug" in form.changed_data:
            redirects.release_address(article)
        if was_at and redirects.keep_old_address(article, was_at.get_absolute_url()):
            self.message_user(
                request,
                f"The story's new address is {article.get_absolute_url()}: the earlier "
                f"{was_at.get_absolute_url()} keeps working (a permanent redirect), and so do "
                "any addresses it had before that.",
                messages.INFO,
            )

    def get_inline_instances(self, request, obj=None):
        """A POST without an inline's rows (a form sent before bylines and corrections
        existed, a script) leaves those as they are rather than being refused."""
        inlines = super().get_inline_instances(request, obj)
        if request.method != "POST":
            return inlines
        return [
            inline
            for inline in inlines
            if f"{inline.model._meta.get_field('article').remote_field.related_name}-TOTAL_FORMS"
            in request.POST
        ]

    def save_formset(self, request, form, formset, change):
        if formset.model is Correction:  # each note says who added it
            for note in formset.save(commit=False):
                note.created_by = request.user
                note.save()
            return
        super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        """A story whose byline names nobody is credited to the account that wrote it (made
        an Author, so the byline links to an author page)."""
        super().save_related(request, form, formsets, change)
        article = form.instance
        if not article.bylines.exists():
            Byline.objects.create(article=article, author=Author.for_user(article.author))

    def response_add(self, request, article, *args, **kwargs):
        response = super().response_add(request, article, *args, **kwargs)
        self.after_save_messages(request, article)
        return response

    def response_change(self, request, article):
        response = super().response_change(request, article)
        self.after_save_messages(request, article)
        return response

    def after_save_messages(self, request, article):
        """What readers get now (the live link, the scheduled time...), and anything in the
        body the sanitiser drops: said, never silently lost."""
        self.message_user(request, *reversed(publishing.status_message(request, article)))
        removed = markdown.removed_by_sanitiser(article.body)
        if removed:
            self.message_user(
                request,
                "Readers will not see everything in the body: the page leaves out "
                f"{'; '.join(removed)}. Pictures go in the hero image or, from the image "
                "library, on a line of their own ([image:12]); links need http, https or mailto.",
                messages.WARNING,
            )

    @admin.action(description="Publish selected stories now", permissions=["change"])
    def publish(self, request, queryset):
        """Stories readers cannot see yet go live now; one that was live before keeps its
        first publish time, and a take-down time that has passed is cleared."""
        now = timezone.now()
        changing = list(queryset.exclude(pk__in=Article.objects.published().values("pk")))
        announce(*public_listing_tags(*changing), *map(tag_for, changing))
        for article in changing:
            article.status = Article.Status.PUBLISHED
            if article.published_at is None or article.published_at > now:
                article.published_at = now
            if article.unpublish_at and article.unpublish_at <= now:
                article.unpublish_at = None
        Article.objects.bulk_update(changing, ["status", "published_at", "unpublish_at"])
        queryset.filter(pk__in=[article.pk for article in changing]).update(updated_at=now)
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((article.get_absolute_url(), article.title) for article in changing),
        )
        self.message_user(
            request,
            format_html(
                "Published {} {} now{}{}.",
                len(changing),
                "story" if len(changing) == 1 else "stories",
                ": " if changing else "",
                links,
            ),
            messages.SUCCESS,
        )

    @admin.action(description="Schedule selected stories…", permissions=["change"])
    def schedule(self, request, queryset):
        """Asks when (a page with the stories and a date and time), then schedules them to go
        live then; a time that has passed is refused there, and stories readers can already
        see are left as they are (see publishing.schedule)."""
        form = ScheduleForm(request.POST if "go_live_at_0" in request.POST else None)
        if form.is_bound and form.is_valid():
            at = form.cleaned_data["go_live_at"]
            announce(*public_listing_tags(*queryset), *map(tag_for, queryset))
            scheduled, left = publishing.schedule(list(queryset), at)
            if scheduled:
                self.message_user(
                    request,
                    format_html(
                        "Scheduled {} {} to go live on {}: {}.",
                        len(scheduled),
                        "story" if len(scheduled) == 1 else "stories",
                        shown(at),
                        format_html_join(", ", "“{}”", ((a.title,) for a in scheduled)),
                    ),
                    messages.SUCCESS,
                )
            if left:
                self.message_user(
                    request,
                    format_html(
                        "Left as they are (readers can see them now, or their take-down "
                        "time comes first): {}. Unpublish a story first to schedule it.",
                        format_html_join(", ", "“{}”", ((a.title,) for a in left)),
                    ),
                    messages.WARNING,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Schedule stories",
            "opts": self.model._meta,
            "stories": queryset,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request,
            "admin/articles/article/schedule.html",
            context,
            status=400 if form.is_bound else 200,
        )

    @admin.action(description="Unpublish selected stories (back to draft)", permissions=["change"])
    def unpublish(self, request, queryset):
        announce(*public_listing_tags(*queryset), *map(tag_for, queryset))
        count = queryset.update(status=Article.Status.DRAFT, updated_at=timezone.now())
        stories = "story" if count == 1 else "stories"
        self.message_user(request, f"Moved {count} {stories} back to draft.", messages.SUCCESS)
