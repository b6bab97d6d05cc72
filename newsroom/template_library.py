"""Tags and filters every template can use without {% load %} (registered as a template builtin)."""

from django import template

from newsroom import dates

register = template.Library()


@register.filter
def machine_time(moment):
    """A date or time as HTML's datetime attribute, schema.org and sitemaps want it:
    newsroom.dates.machine_time. (`date:"c"` keeps microseconds, which validators reject.)"""
    return dates.machine_time(moment)


@register.simple_tag
def time(moment, name="DATETIME_FORMAT"):
    """`{% time moment "DATE_FORMAT" %}`: the <time> element of newsroom.dates.time_element."""
    return dates.time_element(moment, name)


@register.filter
def shown(moment, name="DATETIME_FORMAT"):
    """`{{ moment|shown }}`: the plain text of newsroom.dates.shown, for attributes (an
    aria-label) where a <time> element cannot go."""
    return dates.shown(moment, name)
