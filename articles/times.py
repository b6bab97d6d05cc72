"""Race times: one home for how a time is parsed, shown and ranked. Stored as milliseconds."""

import re
from itertools import groupby
from operator import itemgetter

TIME_PATTERN = re.compile(
    r"^(?:(?P<minutes>\d{1,3}):(?=\d{2}(?:[.,]|$)))?(?P<seconds>\d{1,4})(?:[.,](?P<fraction>\d{1,3}))?$",
    re.ASCII,
)


class TimeFormatError(ValueError):
    pass


def parse_time(text):
    """'1:12.31', '72.31' or '1:12,31' -> 72310 (milliseconds). Anything else raises."""
    cleaned = (text or "").strip()
    match = TIME_PATTERN.match(cleaned)
    if not match:
        raise TimeFormatError(
            f"“{text}” is not a time: write it like 1:12.31, 72.31 or 1:12,31."
        )
    minutes = int(match["minutes"] or 0)
    seconds = int(match["seconds"])
    if match["minutes"] is not None and seconds >= 60:
        raise TimeFormatError(f"“{text}” is not a time: seconds must be below 60.")
    fraction = (match["fraction"] or "").ljust(3, "0")
    total = (minutes * 60 + seconds) * 1000 + int(fraction)
    if not total:
        raise TimeFormatError(f"“{text}” is not a time: it must be more than zero.")
    return total


def format_time(ms, *, places=None):
    """72310 -> '1:12.31', 36490 -> '36.49'. Hundredths unless the time needs thousandths."""
    if ms is None:
        return ""
    if places is None:
        places = 3 if ms % 10 else 2
    minutes, rest = divmod(ms, 60_000)
    seconds, millis = divmod(rest, 1000)
    fraction = f"{millis:03d}"[:places]
    if minutes:
        return f"{minutes}:{seconds:02d}.{fraction}"
    return f"{seconds}.{fraction}"


def format_behind(ms, winner_ms):
    """Gap to the winner: '+0.28', '+1:02.10'."""
    if ms is None or winner_ms is None or ms <= winner_ms:
        return ""
    return "+" + format_time(ms - winner_ms)


def assign_ranks(times_ms):
    """Ranks for a list of times, in the list's order: ties share a rank, the next is skipped.

    [72310, 72590, 72590, 73950] -> [1, 2, 2, 4]. A time of None (DNF, DNS, DSQ) gets no rank.
    """
    ranks = {}
    for position, ms in enumerate(sorted(ms for ms in times_ms if ms is not None), start=1):
        ranks.setdefault(ms, position)
    return [ranks.get(ms) for ms in times_ms]


def rank_order_errors(entries):
    """Rows whose rank and time disagree: a better rank may never have a slower time.

    `entries` is a list of (rank, time_ms); returns {index: message} for each row that is faster
    than a row ranked ahead of it. Rows without a rank or a time are not compared.
    """
    timed = sorted(
        (rank, ms, index) for index, (rank, ms) in enumerate(entries) if rank and ms is not None
    )
    errors = {}
    slowest_ahead = None  # (rank, ms) of the slowest row ranked strictly ahead
    for rank, group in groupby(timed, key=itemgetter(0)):
        group = list(group)
        for _, ms, index in group:
            if slowest_ahead and ms < slowest_ahead[1]:
                errors[index] = (
                    f"Rank {rank} in {format_time(ms)} is faster than rank {slowest_ahead[0]} "
                    f"in {format_time(slowest_ahead[1])}: check the rank or the time."
                )
        group_slowest = max(ms for _, ms, _ in group)
        if slowest_ahead is None or group_slowest > slowest_ahead[1]:
            slowest_ahead = (rank, group_slowest)
    return errors
