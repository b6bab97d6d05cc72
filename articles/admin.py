import logging

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from newsroom.admin_base import EditorModelAdmin
from newsroom.caching import all_tag, announce, list_tag, tag_for

from . import (
    images,
    live_admin,  # noqa: F401  (registers the live desk)
    results_admin,  # noqa: F401  (registers the results admins)
)
from .desk import DeskAdmin
from .images import HeroImageFormField
from .models import Article, Section, Tag

logger = logging.getLogger(__name__)


class ArticleAdminForm(forms.ModelForm):
    """Renders a new hero image while the form is validated, so a picture that cannot be
    converted is an error beside the field, and nothing is stored before the article is."""

    # Set (on a subclass, by ArticleAdmin.get_form) when storing the picture failed on the first
    # try of this request: the form is shown again with this message beside the image.
    hero_not_stored = ""

    def clean_hero_image(self):
        """The uploaded picture, with its rendering kept in `self.rendered_hero`."""
        image = self.cleaned_data.get("hero_image")
        self.rendered_hero = None
        if image and "hero_image" in self.changed_data:
            if self.hero_not_stored:
                raise forms.ValidationError(self.hero_not_stored, code="not_stored")
            self.rendered_hero = images.render_hero_image(image)
        return image


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


@admin.register(Article)
class ArticleAdmin(DeskAdmin, EditorModelAdmin):
    list_display = ["title", "status_label", "section", "author", "published_at", "updated_at"]
    list_filter = ["status", "section", "tags", "comments_closed"]
    list_select_related = ["section", "author"]
    search_fields = ["title", "standfirst", "slug"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["tags", "events"]
    actions = ["publish", "unpublish"]
    form = ArticleAdminForm
    formfield_overrides = {models.ImageField: {"form_class": HeroImageFormField}}
    readonly_fields = ["hero_preview", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "standfirst", "body"]}),
        ("Publishing", {"fields": ["status", "published_at", "section", "tags", "author"]}),
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

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("section", "author")

    @admin.display(description="status", ordering="status")
    def status_label(self, article):
        return article.public_status

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
        if "hero_image" in form.changed_data:
            if article.hero_image:
                rendered = form.rendered_hero  # see ArticleAdminForm.clean_hero_image
                article.hero_renditions, stored = images.store_hero_image(article, rendered)
                request.stored_hero_files.extend(stored)  # see changeform_view
            else:
                images.delete_files_on_commit(images.stored_hero_files(article))
                article.hero_renditions = []
        super().save_model(request, article, form, change)

    @admin.action(description="Publish selected stories now", permissions=["change"])
    def publish(self, request, queryset):
        now = timezone.now()
        changing = queryset.exclude(status=Article.Status.PUBLISHED)
        announce(list_tag(Article), all_tag(Article), *map(tag_for, changing))
        count = changing.update(status=Article.Status.PUBLISHED, published_at=now, updated_at=now)
        self.message_user(request, f"Published {count} stories.", messages.SUCCESS)

    @admin.action(description="Unpublish selected stories (back to draft)", permissions=["change"])
    def unpublish(self, request, queryset):
        announce(list_tag(Article), all_tag(Article), *map(tag_for, queryset))
        count = queryset.update(status=Article.Status.DRAFT, updated_at=timezone.now())
        self.message_user(request, f"Moved {count} stories back to draft.", messages.SUCCESS)
