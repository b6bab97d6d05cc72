"""One home for how dates and times are written, for people and for machines.

- For machines (HTML's `datetime`, JSON-LD, sitemaps, exports): `machine_time()`, ISO 8601 /
  W3C datetime in whole seconds with the offset written `+01:00`, never `+0100`.
- For people: `shown()` with one of the named formats of newsroom/formats/en/formats.py.
- In templates: `{% time moment "DATE_FORMAT" %}` writes both as `<time datetime=...>...</time>`
  (newsroom/template_library.py).

- In RSS and Atom: `feed_time()` for every item's dates, and the generators `Rss` and `Atom`
  for the feed's own date. Django's feed generator writes them in the formats those standards
  fix (RFC 822 and RFC 3339), in the site's time zone and whole seconds like everything else.
"""

import datetime
import html

from django.utils import dateformat, timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.formats import get_format
from django.utils.safestring import SafeString

FORMAT_NAMES = (
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "TIME_FORMAT",
)


def _in_site_zone(moment):
    """An aware datetime in the site's time zone; anything else as it is."""
    if isinstance(moment, datetime.datetime) and timezone.is_aware(moment):
        return timezone.localtime(moment)
    return moment


def machine_time(moment):
    """A datetime (aware; shown in the site's time zone) as '2026-02-12T19:30:00+01:00', a date
    as '2026-02-12'; '' for None or anything else. Whole seconds: validators reject more."""
    return _machine(_in_site_zone(moment))


def _machine(moment):
    if isinstance(moment, datetime.datetime):
        if timezone.is_aware(moment) and moment.utcoffset().seconds % 60:
            # A historic local mean time, e.g. +00:19:32: W3C offsets are whole minutes.
            moment = moment.astimezone(datetime.UTC)
        return moment.isoformat(timespec="seconds")
    if isinstance(moment, datetime.date):
        return moment.isoformat()
    return ""


def shown(moment, name="DATETIME_FORMAT"):
    """`moment` for a reader, in the named format `name` (one of FORMAT_NAMES; ValueError
    otherwise), a datetime in the site's time zone; '' for None."""
    return _shown(_in_site_zone(moment), name)


def _shown(moment, name):
    if name not in FORMAT_NAMES:
        raise ValueError(f"{name!r} is not one of the site's date formats {FORMAT_NAMES}")
    if moment is None:
        return ""
    return dateformat.format(moment, get_format(name))


def time_element(moment, name="DATETIME_FORMAT"):
    """`<time datetime="machine_time">shown</time>` (safe HTML); '' for None.

    Written once per comment on a page (200 on a busy story), so the moment is moved to the
    site's zone once and both texts are escaped directly, without format_html's lazy-string
    checks."""
    if moment is None:
        return ""
    local = _in_site_zone(moment)
    return SafeString(
        f'<time datetime="{html.escape(_machine(local))}">{html.escape(_shown(local, name))}</time>'
    )


class AmbiguousTimeError(ValueError):
    """A wall time the clocks show twice (they go back); `readings` holds both moments."""

    def __init__(self, naive, readings):
        self.naive, self.readings = naive, readings
        super().__init__(f"{naive:%H:%M} on {shown(naive, 'DATE_FORMAT')} happens twice")


class NonExistentTimeError(ValueError):
    """A wall time the clocks skip (they go forward); `later` is the same moment as clocks
    show it after the change."""

    def __init__(self, naive, later):
        self.naive, self.later = naive, later
        super().__init__(f"{naive:%H:%M} on {shown(naive, 'DATE_FORMAT')} does not exist")


def offset_label(moment):
    """'CEST, +02:00': the zone's abbreviation and offset of an aware datetime."""
    return f"{moment.tzname()}, {moment.isoformat()[-6:]}"


def local_moment(naive, *, which=None):
    """The aware datetime of a wall time `naive` in the site's current time zone.

    `which` picks a reading of a time the clocks show twice: "first" (before they go back)
    or "second"; it is ignored for any other time. Raises AmbiguousTimeError when the time
    happens twice and `which` is not given, NonExistentTimeError when the clocks skip it.
    """
    zone = timezone.get_current_timezone()
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    after_round_trip = first.astimezone(datetime.UTC).astimezone(zone)
    if after_round_trip.replace(tzinfo=None) != naive:
        raise NonExistentTimeError(naive, after_round_trip)
    if which == "first":
        return first
    if which == "second":
        return second
    raise AmbiguousTimeError(naive, (first, second))


def which_reading(moment):
    """The reading, "first" or "second", of an aware datetime whose local wall time happens
    twice; "" for any other."""
    local = timezone.localtime(moment)
    try:
        local_moment(local.replace(tzinfo=None))
    except AmbiguousTimeError:
        return "second" if local.fold else "first"
    except NonExistentTimeError:  # pragma: no cover - a moment's own wall time always exists
        pass
    return ""


def feed_time(moment):
    """An aware datetime as an RSS or Atom feed gives it to Django's feed generator: in the
    site's time zone (the offset every page writes) and whole seconds; None stays None."""
    if moment is None:
        return None
    return _in_site_zone(moment).replace(microsecond=0)


class FeedDates:
    """For Django's feed generators: the feed's own date (its newest item's, or now for a feed
    without items) written like its items' (see `feed_time`)."""

    def latest_post_date(self):
        return feed_time(super().latest_post_date())


class Rss(FeedDates, Rss201rev2Feed):
    """RSS 2.0 with the site's dates."""


class Atom(FeedDates, Atom1Feed):
    """Atom 1.0 with the site's dates."""
