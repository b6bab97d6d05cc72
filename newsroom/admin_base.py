from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import models

from articles.slugs import SlugFormField


class NewsroomModelAdmin(admin.ModelAdmin):
    """The project's ModelAdmin: junk in a changelist's query string is never a 500, and slugs
    are made by the server (articles/slugs.py) whatever the admin's JavaScript typed."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.SlugField):
            kwargs["form_class"] = SlugFormField
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except (OverflowError, ValueError) as error:
            # e.g. ?created_at__year=99999999999 or a date hierarchy past year 9999; the admin
            # answers IncorrectLookupParameters by reloading the list without the filter.
            raise IncorrectLookupParameters(error) from error
