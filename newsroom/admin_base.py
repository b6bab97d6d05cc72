import datetime

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from newsroom import dates
from newsroom.slugs import SlugFormField
from newsroom.uploads import KeepsUploadsAdmin
from newsroom.xmltext import validate_xml_text


class LocalDateTimeWidget(AdminSplitDateTime):
    """The admin's date and time boxes, plus, only when the time typed happens twice (the
    night the clocks go back), a choice of which: "first (CEST, +02:00)" / "second (CET,
    +01:00)"."""

    def __init__(self, attrs=None):
        date, time = AdminSplitDateTime().widgets
        forms.MultiWidget.__init__(self, [date, time, forms.Select()], attrs)

    def decompress(self, value):
        if value:
            local = timezone.localtime(value)
            return [local.date(), local.time().replace(fold=0), dates.which_reading(value)]
        return [None, None, ""]

    def get_context(self, name, value, attrs):
        if not isinstance(value, list):
            value = self.decompress(value)
        readings = self._readings(*value[:2])
        self.widgets[2].choices = [("", "Choose which")] + [
            (which, f"{which} ({dates.offset_label(moment)})")
            for which, moment in zip(("first", "second"), readings, strict=False)
        ]
        context = super().get_context(name, value, attrs)
        # The admin's script adds a time zone note for the date and time boxes only.
        context["widget"]["subwidgets"][2]["attrs"].pop("aria-describedby", None)
        context["ambiguous"] = bool(readings)
        return context

    def render(self, name, value, attrs=None, renderer=None):
        """The admin's split date and time markup, the choice after them when it is needed
        (built here: the form renderer does not look in the project's templates)."""
        context = self.get_context(name, value, attrs)
        labels = ["Date:", "Time:", "Which one:"][: 3 if context["ambiguous"] else 2]
        parts = [
            format_html(
                '<label for="{}">{}</label> {}',
                sub["attrs"].get("id", ""),
                label,
                widget.render(sub["name"], sub["value"], sub["attrs"], renderer),
            )
            for label, widget, sub in zip(
                labels, self.widgets, context["widget"]["subwidgets"], strict=False
            )
        ]
        return format_html('<p class="datetime">{}</p>', mark_safe("<br>".join(parts)))  # noqa: S308 - each part built by format_html

    @staticmethod
    def _readings(date, time):
        """Both readings of the date and time typed when it happens twice, else ()."""
        try:
            date, time = forms.DateField().clean(date), forms.TimeField().clean(time)
            dates.local_moment(datetime.datetime.combine(date, time))
        except dates.AmbiguousTimeError as ambiguous:
            return ambiguous.readings
        except (ValidationError, dates.NonExistentTimeError):
            pass
        return ()


class LocalDateTimeField(forms.MultiValueField):
    """A date and time typed in the site's time zone -> an aware datetime (None when empty).

    A time the clocks show twice needs the editor's choice of reading (the widget offers it);
    a time the clocks skip is refused with the way out. Both are ValidationErrors.
    """

    widget = LocalDateTimeWidget
    default_error_messages = {"incomplete": "Enter a date and a time."}

    def __init__(self, **kwargs):
        kwargs.pop("max_length", None)
        fields = (
            forms.DateField(),
            forms.TimeField(),
            forms.ChoiceField(choices=[("first", "first"), ("second", "second")], required=False),
        )
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        if not data_list or data_list[0] is None or data_list[1] is None:
            return None
        naive = datetime.datetime.combine(data_list[0], data_list[1])
        which = data_list[2] if len(data_list) > 2 else ""
        try:
            return dates.local_moment(naive, which=which or None)
        except dates.AmbiguousTimeError as ambiguous:
            first, second = ambiguous.readings
            raise ValidationError(
                f"{ambiguous} in {timezone.get_current_timezone_name()}: the clocks go back "
                f"that night. Choose which below: first ({dates.offset_label(first)}) or "
                f"second ({dates.offset_label(second)}).",
                code="ambiguous_time",
            ) from None
        except dates.NonExistentTimeError as missing:
            raise ValidationError(
                f"{missing} in {timezone.get_current_timezone_name()}: the clocks go forward "
                f"an hour that night. Choose another time, e.g. {missing.later:%H:%M} "
                f"(the same moment on the clocks after the change).",
                code="non_existent_time",
            ) from None


class EditorFieldsMixin:
    """What every admin form an editor types into does with text: slugs are made by the server
    (newsroom/slugs.py) whatever the admin's JavaScript typed, and no text field accepts a
    character that XML 1.0 forbids (it would break the feeds and sitemaps). A date and time is
    read in the site's time zone by LocalDateTimeField, which asks which one when the time
    typed happens twice."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.SlugField):
            kwargs["form_class"] = SlugFormField
        if isinstance(db_field, models.DateTimeField) and db_field.editable:
            kwargs.update(form_class=LocalDateTimeField, widget=LocalDateTimeWidget)
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, models.CharField | models.TextField):
            formfield.validators.append(validate_xml_text)
        return formfield


class NewsroomModelAdmin(KeepsUploadsAdmin, admin.ModelAdmin):
    """The project's ModelAdmin: junk in a changelist's query string is never a 500, and a file
    chosen on a form sent with an error is kept and re-offered (newsroom/uploads.py)."""

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
