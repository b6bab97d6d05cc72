"""Editors' admin for results: competitions, nations, athletes, events with their results inline,
and the CSV import and export of an event's results."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from newsroom.admin_base import EditorModelAdmin, EditorTabularInline

from . import times
from .importers import COLUMNS, MAX_BYTES, REQUIRED_COLUMNS, ResultsImportError, import_results
from .models import Athlete, Competition, Event, Nation, Result


class RaceTimeField(forms.CharField):
    """A race time typed as text (1:12.31, 72.31 or 1:12,31) and kept as milliseconds."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Like 1:12.31 or 36.49.")
        super().__init__(**kwargs)
        self.widget.attrs.update({"size": 10, "inputmode": "decimal", "autocomplete": "off"})

    def prepare_value(self, value):
        return times.format_time(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return times.parse_time(value[:40])
        except times.TimeFormatError as error:
            raise ValidationError(str(error), code="invalid") from None


class ResultTimeField(RaceTimeField):
    """A result's time cell: a time, or a status written where the time goes (DNF, DQ...)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Like 1:12.31, 36.49 or 1:02:03.4; or DNF, DNS, DQ.")
        super().__init__(**kwargs)

    def to_python(self, value):
        status = times.not_finished((value or "")[:40])
        return status or super().to_python(value)


class RankField(forms.CharField):
    """A rank as results sheets write it (3, =3 for a tie, T3, 3.), or a status (DNF, DQ...)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Ties share a rank (=2 or 2); the next rank is skipped.")
        super().__init__(**kwargs)
        self.widget.attrs.update({"size": 5, "autocomplete": "off"})

    def to_python(self, value):
        value = (super().to_python(value) or "")[:40]
        if not value:
            return None
        status = times.not_finished(value)
        if status:
            return status
        try:
            return times.parse_rank(value)
        except times.RankFormatError as error:
            raise ValidationError(str(error), code="invalid") from None


class ResultForm(forms.ModelForm):
    rank = RankField(required=False)
    time_ms = ResultTimeField(label="Time", required=False)

    class Meta:
        model = Result
        fields = ["rank", "athlete", "time_ms", "status", "notes"]

    def clean(self):
        """A status typed in the rank or time cell (DNF, DQ...) sets the status and empties it."""
        data = super().clean()
        for name in ("rank", "time_ms"):
            status = data.get(name)
            if isinstance(status, str):
                data[name] = None
                if data.get("status") in (None, "", Result.Status.FINISHED):
                    data["status"] = status
                elif data["status"] != status:
                    self.add_error(name, f"This row is a {data['status']}, not a {status}.")
        return data


class ResultInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        forms_kept = [
            form
            for form in self.forms
            if form.is_valid() and form.cleaned_data and not self._should_delete_form(form)
        ]
        entries = [(form.cleaned_data["rank"], form.cleaned_data["time_ms"]) for form in forms_kept]
        for index, message in times.rank_order_errors(entries).items():
            forms_kept[index].add_error("rank", message)


class ResultInline(EditorTabularInline):
    model = Result
    form = ResultForm
    formset = ResultInlineFormSet
    autocomplete_fields = ["athlete"]
    extra = 3

    class Media:
        # The table fits its box (it scrolls inside it when narrower), the row's own delete box
        # is labelled; Select2's clear cross is named (static/js/admin_fields.js).
        js = ["js/admin_fields.js"]
        css = {"all": ["css/admin_forms.css"]}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """The athlete's box offers only "add another athlete": the pencil, eye and red cross
        beside it changed or deleted the athlete everywhere, and the cross was taken for
        deleting the result row (which is the row's own "Delete" box)."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "athlete" and formfield is not None:
            widget = formfield.widget
            widget.can_change_related = widget.can_delete_related = False
            widget.can_view_related = False
        return formfield

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("athlete").in_table_order()


class EventForm(forms.ModelForm):
    record_time_ms = RaceTimeField(label="Record time", required=False)

    class Meta:
        model = Event
        fields = [
            "competition",
            "sport",
            "name",
            "slug",
            "starts_at",
            "venue",
            "status",
            "results_official",
            "record_label",
            "record_holder",
            "record_time_ms",
            "record_year",
        ]


class ImportResultsForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 CSV with the columns {', '.join(COLUMNS)}, at most "
        f"{MAX_BYTES // 1_000_000} MB.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(f"The file is too big: at most {MAX_BYTES // 1_000_000} MB.")
        return upload


@admin.register(Competition)
class CompetitionAdmin(EditorModelAdmin):
    list_display = ["name", "place", "starts_on", "ends_on"]
    search_fields = ["name", "place", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    date_hierarchy = "starts_on"


@admin.register(Nation)
class NationAdmin(EditorModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Athlete)
class AthleteAdmin(EditorModelAdmin):
    list_display = ["name", "nation"]
    list_filter = ["nation"]
    list_select_related = ["nation"]
    search_fields = ["name", "slug", "nation__code", "nation__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["nation"]


@admin.register(Event)
class EventAdmin(EditorModelAdmin):
    form = EventForm
    inlines = [ResultInline]
    list_display = [
        "name",
        "competition",
        "sport",
        "starts_at",
        "status",
        "results_official",
        "result_count",
    ]
    list_filter = ["status", "results_official", "sport", "competition"]
    list_select_related = ["competition"]
    search_fields = ["name", "sport", "slug", "competition__name"]
    date_hierarchy = "starts_at"
    ordering = ["-starts_at", "pk"]
    # No prepopulated slug: an empty one is made on save from the competition, sport and name,
    # so the same event at the next competition gets its own readable address.
    autocomplete_fields = ["competition"]
    readonly_fields = ["results_changed_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "competition",
                    "sport",
                    "name",
                    "slug",
                    "starts_at",
                    "venue",
                    "status",
                    "results_official",
                    "results_changed_at",
                ]
            },
        ),
        (
            "Record before this event",
            {"fields": ["record_label", "record_holder", "record_time_ms", "record_year"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(result_count=Count("results"))

    @admin.display(description="results", ordering="result_count")
    def result_count(self, event):
        return event.result_count

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "results_official" in form.changed_data or any(fs.has_changed() for fs in formsets):
            form.instance.mark_results_changed()

    def get_urls(self):
        import_view = self.admin_site.admin_view(self.import_results_view)
        return [
            path("<path:object_id>/import/", import_view, name="articles_event_import"),
            *super().get_urls(),
        ]

    def has_import_permission(self, request, event):
        return self.has_change_permission(request, event) and all(
            request.user.has_perm(f"articles.{action}_result")
            for action in ("add", "change", "delete")
        )

    def import_results_view(self, request, object_id):
        event = self.get_object(request, unquote(object_id))
        if event is None:
            raise Http404("No such event.")
        if not self.has_import_permission(request, event):
            raise PermissionDenied
        form = ImportResultsForm()
        problems, status = [], 200
        if request.method == "POST":
            form, status = ImportResultsForm(request.POST, request.FILES), 400
            if form.is_valid():
                try:
                    summary = import_results(event=event, data=form.cleaned_data["file"].read())
                except ResultsImportError as error:
                    problems = error.errors
                else:
                    self.log_change(request, event, f"Imported results: {summary}")
                    self.message_user(
                        request, f"Results imported for {event.name}: {summary}", messages.SUCCESS
                    )
                    return redirect(reverse("admin:articles_event_change", args=[event.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import results: {event.name}",
            "opts": self.opts,
            "original": event,
            "form": form,
            "problems": problems,
            "columns": COLUMNS,
            "required_columns": REQUIRED_COLUMNS,
        }
        return TemplateResponse(
            request, "admin/articles/event/import_results.html", context, status=status
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_import"] = obj is not None and self.has_import_permission(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
