"""Filters every template can use without {% load %} (registered as a template builtin)."""

import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def machine_time(moment):
    """A date or time as HTML's datetime attribute and schema.org want it: ISO 8601, whole
    seconds, local offset. (`date:"c"` keeps microseconds, which validators reject.)"""
    if isinstance(moment, datetime.datetime):
        return timezone.localtime(moment).isoformat(timespec="seconds")
    if isinstance(moment, datetime.date):
        return moment.isoformat()
    return ""
