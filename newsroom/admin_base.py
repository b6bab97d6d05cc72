from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import models

from newsroom.slugs import SlugFormField
from newsroom.xmltext import validate_xml_text


class EditorFieldsMixin:
    """What every admin form an editor types into does with text: slugs are made by the server
    (newsroom/slugs.py) whatever the admin's JavaScript typed, and no text field accepts a
    character that XML 1.0 forbids (it would break the feeds and sitemaps)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.SlugField):
            kwargs["form_class"] = SlugFormField
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, models.CharField | models.TextField):
            formfield.validators.append(validate_xml_text)
        return formfield


class NewsroomModelAdmin(admin.ModelAdmin):
    """The project's ModelAdmin: junk in a changelist's query string is never a 500."""

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except (OverflowError, ValueError) as error:
            # e.g. ?created_at__year=99999999999 or a date hierarchy past year 9999; the admin
            # answers IncorrectLookupParameters by reloading the list without the filter.
            raise IncorrectLookupParameters(error) from error


class EditorModelAdmin(EditorFieldsMixin, NewsroomModelAdmin):
    """The admin of what editors write (stories and results): slugs and text fields follow
    EditorFieldsMixin. (Comments are readers' text, kept as typed; see comments/admin.py.)"""


class EditorTabularInline(EditorFieldsMixin, admin.TabularInline):
    """A tabular inline of what editors write: its text fields follow EditorFieldsMixin too."""
