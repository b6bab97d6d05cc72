"""Results CSV, in and out: the whole file is checked first, then imported in one transaction.

The file is the event's complete results table, one row per athlete:

    rank,athlete,nation,time,status,notes
    1,Jutta Leerdam,NED,1:12.31,,OR
    2,Femke Kok,NED,1:12.59,,OR
    ,Someone Else,NOR,,DNF,

`athlete`, `nation` (an IOC code) and `time` are required columns. Times of an hour or more read
1:02:03.4. Without a `rank` column, ranks come from the times (ties share a rank); a tie may be
written =2 or T2. `status` may be left out: a time or rank cell that reads DNF, DNS, DSQ (or DQ,
DQB...) says it. Importing the same file again changes nothing; athletes missing from
a new file are removed from the event. Export writes the same format, so it imports back as is.
"""

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from django.db import transaction

from articles import times
from articles.models import Athlete, Event, Nation, Result
from newsroom.xmltext import NOT_XML

COLUMNS = ["rank", "athlete", "nation", "time", "status", "notes"]
REQUIRED_COLUMNS = ["athlete", "nation", "time"]
COLUMN_ALIASES = {
    "place": "rank",
    "pos": "rank",
    "position": "rank",
    "name": "athlete",
    "noc": "nation",
    "country": "nation",
    "result": "time",
    "note": "notes",
    "record": "notes",
}
MAX_ROWS = 2000
MAX_BYTES = 2_000_000
MAX_ERRORS_SHOWN = 200
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self):
        return f"Line {self.line}: {self.message}"


class ResultsImportError(Exception):
    """The file was refused: nothing was stored. `errors` lists every bad row."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


@dataclass(frozen=True)
class ResultRow:
    line: int
    athlete: str
    nation: Nation
    rank: int | None
    time_ms: int | None
    status: str
    notes: str

    def values(self):
        return {
            "rank": self.rank,
            "time_ms": self.time_ms,
            "status": self.status,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class ImportSummary:
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def changed(self):
        return bool(self.created or self.updated or self.removed)

    def __str__(self):
        return (
            f"{self.created} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged."
        )


def import_results(
    *,
    event: Event,
    data: bytes,
    progress: Callable[[Iterable], Iterable] = iter,
) -> ImportSummary:
    """Check every row of a results CSV, then replace the event's results in one transaction.

    Raises ResultsImportError listing every bad row; on error nothing at all is stored.
    """
    rows = read_results(decode(data))
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        existing = {result.athlete_id: result for result in event.results.all()}
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        seen = set()
        for row in progress(rows):
            athlete = find_or_create_athlete(name=row.athlete, nation=row.nation)
            seen.add(athlete.pk)
            result = existing.get(athlete.pk)
            if result is None:
                Result.objects.create(event=event, athlete=athlete, **row.values())
                counts["created"] += 1
            elif any(getattr(result, field) != value for field, value in row.values().items()):
                for field, value in row.values().items():
                    setattr(result, field, value)
                result.save(update_fields=list(row.values()))
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        removed, _ = event.results.exclude(athlete_id__in=seen).delete()
        summary = ImportSummary(removed=removed, **counts)
        if summary.changed:
            event.mark_results_changed()
    return summary


def decode(data: bytes) -> str:
    """The file's text, or ResultsImportError when it is too big or not UTF-8 text."""
    if len(data) > MAX_BYTES:
        raise ResultsImportError(
            [RowError(1, f"The file is too big: at most {MAX_BYTES // 1_000_000} MB.")]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ResultsImportError(
            [RowError(line, "The file is not UTF-8 text: save it as “CSV UTF-8”.")]
        ) from None
    if "\x00" in text:
        raise ResultsImportError([RowError(1, "The file is not a text CSV file.")])
    return text


def read_results(text: str) -> list[ResultRow]:
    """Parse and check a whole results CSV; raise ResultsImportError listing every bad row."""
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text.split("\n", 1)[0]))
    try:
        records = [(reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)]
    except csv.Error as error:
        raise ResultsImportError(
            [RowError(reader.line_num, f"This is not valid CSV ({error}).")]
        ) from None
    if not records:
        raise ResultsImportError([RowError(1, "The file is empty: it needs a header row.")])
    header_line, header = records[0]
    columns, errors = _read_header(header_line, header)
    if errors:
        raise ResultsImportError(errors)
    records = records[1:]
    if not records:
        raise ResultsImportError([RowError(header_line, "There are no results under the header.")])
    if len(records) > MAX_ROWS:
        raise ResultsImportError(
            [RowError(header_line, f"The file has {len(records)} rows; at most {MAX_ROWS}.")]
        )

    nations = {nation.code: nation for nation in Nation.objects.all()}
    rank_given = "rank" in columns and any(_cell(cells, columns, "rank") for _, cells in records)
    rows, first_lines = [], {}
    for line, cells in records:
        row = _read_row(line, cells, columns, nations, rank_given, first_lines, errors)
        if row is not None:
            rows.append(row)

    if not rank_given:
        ranks = times.assign_ranks([row.time_ms for row in rows])
        rows = [
            replace(row, rank=rank) if row.status == Result.Status.FINISHED else row
            for row, rank in zip(rows, ranks, strict=True)
        ]
    order_errors = times.rank_order_errors([(row.rank, row.time_ms) for row in rows])
    errors += [RowError(rows[index].line, message) for index, message in order_errors.items()]
    if errors:
        raise ResultsImportError(sorted(errors, key=lambda error: error.line)[:MAX_ERRORS_SHOWN])
    return rows


def find_or_create_athlete(*, name: str, nation: Nation) -> Athlete:
    """The athlete of that name and nation, created with a free slug if new (see slugs.py)."""
    athlete = Athlete.objects.filter(name__iexact=name, nation=nation).order_by("pk").first()
    return athlete or Athlete.objects.create(name=name, nation=nation)


def write_results(*, event: Event, file) -> None:
    """Write the event's results in the import format (it imports back unchanged)."""
    writer = csv.writer(file)
    writer.writerow(COLUMNS)
    for result in event.results.in_table_order().select_related("athlete__nation"):
        writer.writerow(
            _escape(value)
            for value in [
                result.rank or "",
                result.athlete.name,
                result.athlete.nation.code,
                result.time,
                result.status,
                result.notes,
            ]
        )


def _dialect(first_line):
    """Comma by default; a header with semicolons or tabs (Excel in many locales) says otherwise."""
    delimiter = next((d for d in (";", "\t") if d in first_line and "," not in first_line), ",")
    return type("Results", (csv.excel,), {"delimiter": delimiter, "strict": True})


def _read_header(line, header):
    columns, errors = {}, []
    for position, title in enumerate(header):
        name = title.strip().lower().lstrip("\ufeff")
        name = COLUMN_ALIASES.get(name, name)
        if name not in COLUMNS:
            known = ", ".join(COLUMNS)
            errors.append(RowError(line, f"Unknown column “{_quote(title.strip())}”: use {known}."))
        elif name in columns:
            errors.append(RowError(line, f"The column “{name}” appears twice."))
        else:
            columns[name] = position
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            errors.append(RowError(line, f"Missing column “{name}”."))
    return columns, errors


def _cell(cells, columns, name):
    position = columns.get(name)
    if position is None or position >= len(cells):
        return ""
    value = cells[position].strip()
    if value.startswith("'") and value[1:2] in FORMULA_STARTS:
        value = value[1:]
    return value


def _read_row(line, cells, columns, nations, rank_given, first_lines, errors):
    """One checked ResultRow, or None after adding this line's problems to `errors`.

    `first_lines` maps (athlete, nation) to the line where each athlete first appeared.
    """
    problems = []
    if len(cells) > len(columns):
        problems.append(f"It has {len(cells)} values but the header has {len(columns)} columns.")

    athlete = _cell(cells, columns, "athlete")
    if not athlete:
        problems.append("The athlete's name is missing.")
    elif len(athlete) > Athlete._meta.get_field("name").max_length or _has_control(athlete):
        problems.append("The athlete's name is too long or has characters that are not text.")

    code = _cell(cells, columns, "nation").upper()
    nation = nations.get(code)
    if not code:
        problems.append("The nation is missing.")
    elif nation is None:
        problems.append(f"Unknown nation “{_quote(code)}”: use an IOC code we know, such as NED.")

    if athlete and code:
        first_line = first_lines.setdefault((athlete.casefold(), code), line)
        if first_line != line:
            problems.append(
                f"{_quote(athlete)} ({_quote(code)}) is already on line {first_line}: "
                "each athlete appears once."
            )

    time_text = _cell(cells, columns, "time")
    rank_text = _cell(cells, columns, "rank")
    status_text = (
        _cell(cells, columns, "status")
        or times.not_finished(time_text)
        or times.not_finished(rank_text)
        or ""
    )
    status = times.parse_status(status_text)
    if status is None:
        problems.append(
            f"Unknown status “{_quote(status_text)}”: use finished, DNF, DNS or DSQ (or DQ)."
        )

    time_ms = rank = None
    if status == Result.Status.FINISHED:
        if time_text:
            try:
                time_ms = times.parse_time(_quote(time_text))
            except times.TimeFormatError as error:
                problems.append(str(error))
        elif not rank_given:
            problems.append("A finisher needs a time (or give every finisher a rank).")
        if rank_given:
            if not rank_text:
                problems.append("The rank is missing.")
            else:
                try:
                    rank = times.parse_rank(_quote(rank_text))
                except times.RankFormatError as error:
                    problems.append(str(error))
    elif status is not None:
        if time_text and times.parse_status(time_text) != status:
            problems.append(f"A {status} has no time: leave the time empty.")
        if rank_text and times.parse_status(rank_text) != status:
            problems.append(f"A {status} has no rank: leave the rank empty.")

    notes = _cell(cells, columns, "notes")
    if len(notes) > Result._meta.get_field("notes").max_length or _has_control(notes):
        problems.append("The notes are too long (at most 40 characters) or not plain text.")

    if problems:
        errors.append(RowError(line, " ".join(problems)))
        return None
    return ResultRow(line, athlete, nation, rank, time_ms, status, notes)


def _quote(text):
    """A cell as it may appear in a message: short and printable."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 30 else text[:29] + "…"


def _has_control(text):
    """Control characters, bidirectional overrides and anything XML 1.0 forbids (it would break
    the feeds and sitemaps) have no place in a name or a note."""
    return NOT_XML.search(text) is not None or any(
        unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS for c in text
    )


def _escape(value):
    """Keep spreadsheet programs from running a cell as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
