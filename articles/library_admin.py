"""The image library in the admin: upload a picture once (validated, re-encoded and rendered
like a hero image; alt text required; a chosen file kept across a form error), find it again
by its alt text, caption or credit, and copy its reference into a story's body (the story
admin's picker, `picker_html`, inserts it with a button when JavaScript runs).

Adding and changing pictures needs ``articles.add_libraryimage`` / ``change_libraryimage``
(the Editors group; not Moderators)."""

import logging

from django import forms
from django.contrib import admin
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from newsroom.admin_base import EditorModelAdmin

from . import images
from .images import HeroImageFormField
from .models import LibraryImage

logger = logging.getLogger(__name__)

PICKER_LATEST = 8  # the newest pictures offered beside a story's body


class LibraryImageForm(forms.ModelForm):
    """Renders a new picture while the form is validated: what cannot be converted is an
    error beside the field, and nothing is stored before the picture's row is saved."""

    rendered = None
    not_stored = ""  # set (on a subclass) when storage refused the picture on a first try

    def clean_image(self):
        image = self.cleaned_data.get("image")
        self.rendered = None
        if image and "image" in self.changed_data:
            if self.not_stored:
                raise forms.ValidationError(self.not_stored, code="not_stored")
            self.rendered = images.render_hero_image(image)
        return image


def snippet_html(image):
    """The reference to copy for `image`, and (shown by library_picker.js) a button that
    inserts it into the story's body."""
    return format_html(
        '<code class="library-snippet">{}</code> <button type="button" class="button '
        'library-insert" data-insert="{}" hidden>Insert into body</button>',
        image.reference,
        image.reference,
    )


def thumbnail_html(image, width=120):
    data = image.picture_data
    if data is None:
        return "—"
    return format_html(
        '<img src="{}" alt="{}" width="{}" loading="lazy">',
        default_storage.url(image.renditions[0]["name"]),
        image.alt,
        width,
    )


def picker_html():
    """What the story admin shows beside the body: the newest library pictures, each with its
    reference to copy (and insert), and links to search the library and upload a picture."""
    shown = LibraryImage.objects.all()[:PICKER_LATEST]
    rows = format_html_join(
        "",
        "<li>{} <span>{}</span> {}</li>",
        ((thumbnail_html(image, 80), image.alt, snippet_html(image)) for image in shown),
    )
    links = format_html(
        '<a href="{}" target="_blank" rel="noopener">Search the image library (opens in a new '
        'tab)</a> · <a href="{}" target="_blank" rel="noopener">Upload a picture (opens in a '
        "new tab)</a>",
        reverse("admin:articles_libraryimage_changelist"),
        reverse("admin:articles_libraryimage_add"),
    )
    intro = (
        "Put a picture's reference on a line of its own in the body; readers see the picture "
        "there at their screen's width."
    )
    if not shown:
        return format_html("<p>{}</p><p>The library is empty. {}</p>", intro, links)
    return format_html('<p>{}</p><ul class="library-picker">{}</ul><p>{}</p>', intro, rows, links)


@admin.register(LibraryImage)
class LibraryImageAdmin(EditorModelAdmin):
    form = LibraryImageForm
    list_display = ["thumbnail", "alt", "reference_snippet", "credit", "created_at"]
    list_display_links = ["alt"]
    search_fields = ["alt", "caption", "credit"]
    fields = ["image", "current", "alt", "caption", "credit", "reference_snippet"]
    readonly_fields = ["current", "reference_snippet"]
    formfield_overrides = {models.ImageField: {"form_class": HeroImageFormField}}

    class Media:
        js = ["js/library_picker.js"]

    @admin.display(description="picture")
    def thumbnail(self, image):
        return thumbnail_html(image)

    @admin.display(description="current picture")
    def current(self, image):
        return thumbnail_html(image, 240) if image.pk else "—"

    @admin.display(description="reference for a story's body")
    def reference_snippet(self, image):
        return format_html("<code>{}</code>", image.reference) if image.pk else "—"

    def changeform_view(self, request, *args, **kwargs):
        """Files stored for a picture whose row is not saved after all are deleted again; when
        storage refused them (a full disk), the form is shown again with the reason."""
        request.stored_library_files = []
        try:
            return super().changeform_view(request, *args, **kwargs)
        except images.HeroImageNotStored as error:
            images.delete_files(request.stored_library_files)
            logger.error("A library image could not be stored: %s", error.__cause__)
            request.stored_library_files = []
            request.library_not_stored = str(error)
            return super().changeform_view(request, *args, **kwargs)
        except BaseException:
            images.delete_files(request.stored_library_files)
            raise

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if getattr(request, "library_not_stored", ""):
            form = type(form.__name__, (form,), {"not_stored": request.library_not_stored})
        return form

    def save_model(self, request, image, form, change):
        if not change:
            image.uploaded_by = request.user
        if "image" in form.changed_data and form.rendered is not None:
            image.renditions, stored = images.store_hero_image(
                image, form.rendered, **LibraryImage.PICTURE_FILES
            )
            request.stored_library_files.extend(stored)
        super().save_model(request, image, form, change)
