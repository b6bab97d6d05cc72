"""Race times: one home for how a time is parsed and shown. Stored as integer milliseconds."""

import re

TIME_PATTERN = re.compile(
    r"^(?:(?P<minutes>\d{1,3}):(?=\d{2}(?:[.,]|$)))?(?P<seconds>\d{1,4})(?:[.,](?P<fraction>\d{1,3}))?$"
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
    return (minutes * 60 + seconds) * 1000 + int(fraction or 0)


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
