"""Race times: one home for how a time, a rank and a result's status are read, shown and ranked.

Times are stored as milliseconds.
"""

import re
from itertools import groupby
from operator import itemgetter

TIME_PATTERN = re.compile(
    r"""^
    (?:
        (?:(?P<hours>\d{1,2}):(?=\d{2}:))?           # hours, only before two-digit minutes
        (?P<minutes>\d{1,3}):(?=\d{2}(?:[.,]|$))     # minutes, only before two-digit seconds
    )?
    (?P<seconds>\d{1,4})
    (?:[.,](?P<fraction>\d{1,3}))?
    $""",
    re.ASCII | re.VERBOSE,
)
HOW_TO_WRITE = "write it like 1:12.31, 72.31 or 1:12,31 (an hour or more: 1:02:03.4)"

# Ranks as results sheets write them: 3, 3., =3 or T3 (a tie), 3= and 3rd.
RANK_PATTERN = re.compile(r"^(?:=|T)?(\d{1,4})(?:\.|=|ST|ND|RD|TH)?$", re.ASCII | re.IGNORECASE)
MAX_RANK = 9999

FINISHED = "finished"
NOT_FINISHED = ("DNF", "DNS", "DSQ")
# Every usual way of writing a status, compared in capitals without dots, spaces or dashes.
STATUS_NOTATIONS = {
    "": FINISHED,
    "FINISHED": FINISHED,
    "DNF": "DNF",
    "DIDNOTFINISH": "DNF",
    "RET": "DNF",
    "DNS": "DNS",
    "DIDNOTSTART": "DNS",
    "DSQ": "DSQ",
    "DQ": "DSQ",
    "DQB": "DSQ",
    "DISQ": "DSQ",
    "DISQUALIFIED": "DSQ",
}


class TimeFormatError(ValueError):
    pass


class RankFormatError(ValueError):
    pass


def parse_time(text):
    """'1:12.31', '72.31', '1:12,31' -> 72310; '1:02:03.4' -> 3723400 (ms). Else raises."""
    cleaned = (text or "").strip()
    match = TIME_PATTERN.match(cleaned)
    if not match:
        raise TimeFormatError(f"“{text}” is not a time: {HOW_TO_WRITE}.")
    hours = int(match["hours"] or 0)
    minutes = int(match["minutes"] or 0)
    seconds = int(match["seconds"])
    if match["hours"] is not None and minutes >= 60:
        raise TimeFormatError(f"“{text}” is not a time: minutes must be below 60.")
    if match["minutes"] is not None and seconds >= 60:
        raise TimeFormatError(f"“{text}” is not a time: seconds must be below 60.")
    fraction = (match["fraction"] or "").ljust(3, "0")
    total = ((hours * 60 + minutes) * 60 + seconds) * 1000 + int(fraction)
    if not total:
        raise TimeFormatError(f"“{text}” is not a time: it must be more than zero.")
    return total


def format_time(ms, *, places=None):
    """72310 -> '1:12.31', 36490 -> '36.49', 3723400 -> '1:02:03.40'.

    Hundredths unless the time needs thousandths; minutes and hours only when needed.
    """
    if ms is None:
        return ""
    if places is None:
        places = 3 if ms % 10 else 2
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    fraction = f"{millis:03d}"[:places]
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{fraction}"
    if minutes:
        return f"{minutes}:{seconds:02d}.{fraction}"
    return f"{seconds}.{fraction}"


def parse_rank(text):
    """'3', '3.', '=3', 'T3', '3=' or '3rd' -> 3. Anything else raises RankFormatError."""
    cleaned = (text or "").strip()
    match = RANK_PATTERN.match(cleaned)
    if not match or not 1 <= int(match[1]) <= MAX_RANK:
        raise RankFormatError(f"“{text}” is not a rank: write a number like 3 (a tie: =3).")
    return int(match[1])


def parse_status(text):
    """A result's status as written on a results sheet, or None when it is not one.

    '' and 'finished' -> 'finished'; 'DNF', 'DNS' -> themselves; 'DQ', 'DSQ', 'DQB', 'dsq' ->
    'DSQ'; 'D.N.F.' and 'Did not start' are read too.
    """
    key = re.sub(r"[\s.\-]", "", text or "").upper()
    return STATUS_NOTATIONS.get(key)


def not_finished(text):
    """'DNF', 'DNS' or 'DSQ' when `text` is written like one of them ('DQ', 'dnf'...), else None."""
    status = parse_status(text)
    return status if status in NOT_FINISHED else None


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
