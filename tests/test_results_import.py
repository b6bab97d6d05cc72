"""An editor imports an event's results from a CSV file: all or nothing, every bad row named."""

import importlib
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.importers import (
    MAX_BYTES,
    ResultsImportError,
    import_results,
    write_results,
)
from articles.models import Article, Athlete, Nation, Result

from .factories import make_article, make_athlete, make_event, make_nation, make_result

pytestmark = pytest.mark.django_db

GOOD = """rank,athlete,nation,time,status,notes
1,Jutta Leerdam,NED,1:12.31,,OR
2,Femke Kok,NED,1:12.59,,OR
3,Miho Takagi,JPN,1:13.95,,
14,Nadezhda Morozova,KAZ,,,
,Some Skater,NED,,DNF,
"""


@pytest.fixture
def event():
    for code in ["NED", "JPN", "KAZ", "NOR", "CAN"]:
        make_nation(code)
    return make_event(name="Women's 1000 m")


def table(event):
    """The stored results as (rank, athlete, time, status, notes), in table order."""
    return [
        (r.rank, r.athlete.name, r.time, r.status, r.notes)
        for r in event.results.in_table_order().select_related("athlete")
    ]


def problems(error):
    return [(problem.line, problem.message) for problem in error.value.errors]


def test_good_file_stores_the_whole_table(event):
    """Every row is stored with its rank, time in milliseconds, status and notes."""
    summary = import_results(event=event, data=GOOD.encode())
    assert (summary.created, summary.updated, summary.removed) == (5, 0, 0)
    assert table(event) == [
        (1, "Jutta Leerdam", "1:12.31", "finished", "OR"),
        (2, "Femke Kok", "1:12.59", "finished", "OR"),
        (3, "Miho Takagi", "1:13.95", "finished", ""),
        (14, "Nadezhda Morozova", "", "finished", ""),
        (None, "Some Skater", "", "DNF", ""),
    ]
    assert event.results.get(athlete__name="Jutta Leerdam").time_ms == 72_310
    assert Athlete.objects.get(name="Femke Kok").nation.code == "NED"


def test_importing_the_same_file_again_changes_nothing(event):
    """A second import of the same file writes nothing and does not stamp stories again."""
    story = make_article(events=[event])
    import_results(event=event, data=GOOD.encode())
    story.refresh_from_db()
    event.refresh_from_db()
    stamped, changed = story.results_updated_at, event.results_changed_at
    assert stamped is not None and changed is not None
    before = list(Result.objects.order_by("pk").values())
    athletes = Athlete.objects.count()

    summary = import_results(event=event, data=GOOD.encode())

    assert not summary.changed and summary.unchanged == 5
    assert list(Result.objects.order_by("pk").values()) == before
    assert Athlete.objects.count() == athletes
    story.refresh_from_db()
    event.refresh_from_db()
    assert (story.results_updated_at, event.results_changed_at) == (stamped, changed)


def test_a_corrected_file_updates_removes_and_stamps_covering_stories(event):
    """Changed rows are updated, missing athletes removed, and covering stories read Updated."""
    story = make_article(events=[event])
    draft = make_article(
        events=[event], status=Article.Status.DRAFT, published_at=timezone.now() + timedelta(days=1)
    )
    import_results(event=event, data=GOOD.encode())
    Article.objects.update(results_updated_at=None)
    corrected = GOOD.replace("1:13.95,,", "1:13.96,,").replace(",Some Skater,NED,,DNF,\n", "")

    summary = import_results(event=event, data=corrected.encode())

    assert (summary.created, summary.updated, summary.removed) == (0, 1, 1)
    assert event.results.get(athlete__name="Miho Takagi").time_ms == 73_960
    assert not event.results.filter(athlete__name="Some Skater").exists()
    story.refresh_from_db()
    draft.refresh_from_db()
    assert story.results_updated_at is not None
    assert draft.results_updated_at is None


def test_without_a_rank_column_ranks_come_from_times_with_ties(event):
    """Ranks follow the times: a tie shares second place, the next is fourth, DNF has none."""
    data = """athlete,nation,time
Ingrid Solberg,NOR,1:53.84
Maya Tremblay,CAN,1:54.02
Anna Visser,NED,1:54.02
Someone Slow,NED,1:55.10
Someone Out,NED,DNF
"""
    import_results(event=event, data=data.encode())
    assert [(rank, name, status) for rank, name, _, status, _ in table(event)] == [
        (1, "Ingrid Solberg", "finished"),
        (2, "Anna Visser", "finished"),
        (2, "Maya Tremblay", "finished"),
        (4, "Someone Slow", "finished"),
        (None, "Someone Out", "DNF"),
    ]


def test_times_of_an_hour_or_more_are_read_and_export_back(event):
    """A long race's h:mm:ss.f times are stored exactly and export as they import."""
    data = "athlete,nation,time\nLong Walker,NED,1:02:03.4\nShort Sprinter,NOR,0:01:12.31\n"
    import_results(event=event, data=data.encode())
    assert table(event) == [
        (1, "Short Sprinter", "1:12.31", "finished", ""),
        (2, "Long Walker", "1:02:03.40", "finished", ""),
    ]
    assert event.results.get(athlete__name="Long Walker").time_ms == 3_723_400
    out = io.StringIO()
    write_results(event=event, file=out)
    assert "2,Long Walker,NED,1:02:03.40,finished," in out.getvalue().splitlines()
    assert not import_results(event=event, data=out.getvalue().encode()).changed


def test_ties_written_with_an_equals_sign_or_t_share_the_rank(event):
    """=2 and T2 are the usual ways to write a shared second place."""
    data = """rank,athlete,nation,time
1,Ingrid Solberg,NOR,1:53.84
=2,Maya Tremblay,CAN,1:54.02
T2,Anna Visser,NED,1:54.02
4.,Someone Slow,NED,1:55.10
"""
    import_results(event=event, data=data.encode())
    assert [(rank, name) for rank, name, *_ in table(event)] == [
        (1, "Ingrid Solberg"),
        (2, "Anna Visser"),
        (2, "Maya Tremblay"),
        (4, "Someone Slow"),
    ]


@pytest.mark.parametrize(
    ("row", "status"),
    [
        (",A,NED,,DQ", "DSQ"),
        (",A,NED,,dsq", "DSQ"),
        (",A,NED,,DQB", "DSQ"),
        (",A,NED,DQ,", "DSQ"),
        ("DQ,A,NED,,", "DSQ"),
        ("DNF,A,NED,DNF,", "DNF"),
        (",A,NED,dnf,", "DNF"),
        (",A,NED,D.N.S.,", "DNS"),
        (",A,NED,,Did not start", "DNS"),
    ],
)
def test_not_finished_in_its_usual_forms_in_any_cell(event, row, status):
    """DQ, DSQ, DQB, dnf, D.N.S.: in the status, time or rank cell, any case, all understood."""
    data = f"rank,athlete,nation,time,status\n1,W,NOR,1:53.84,\n{row}\n"
    import_results(event=event, data=data.encode())
    assert event.results.get(athlete__name="A").status == status
    assert event.results.get(athlete__name="A").rank is None


def test_any_ioc_nation_imports_out_of_the_box():
    """The full IOC list ships with the site: no nation has to be added before an import."""
    event = make_event()
    data = (
        "athlete,nation,time\n"
        "Tijana Bogdanović,SRB,1:12.31\nKim Min-sun,KOR,1:12.40\nA Refugee,EOR,1:13.00\n"
        "Ana Ruiz,esp,1:13.10\nOlga Bandit,ZIM,1:14.00\n"
    )
    import_results(event=event, data=data.encode())
    assert [r.athlete.nation.name for r in event.results.in_table_order()] == [
        "Serbia",
        "Republic of Korea",
        "IOC Refugee Olympic Team",
        "Spain",
        "Zimbabwe",
    ]


def test_the_ioc_list_is_complete_and_loading_it_again_changes_nothing():
    """206 NOCs plus AIN and EOR; running the data migration again adds nothing and keeps an
    editor's own name for a nation."""
    from django.apps import apps

    migration = importlib.import_module("articles.migrations.0005_ioc_nations")
    assert len(migration.IOC_NATIONS) == 208
    assert len({code for code, _ in migration.IOC_NATIONS}) == 208
    assert Nation.objects.filter(code__in=[c for c, _ in migration.IOC_NATIONS]).count() == 208
    Nation.objects.filter(code="NED").update(name="The Netherlands")
    before = Nation.objects.count()
    migration.add_nations(apps, None)
    assert Nation.objects.count() == before
    assert Nation.objects.get(code="NED").name == "The Netherlands"


def test_spreadsheet_exports_with_semicolons_bom_and_other_headings_are_read(event):
    """Excel's ‘CSV UTF-8’ with semicolons, a BOM, comma decimals and headings like Place/Name."""
    data = (
        "\ufeffPlace;Name;NOC;Result;Record\n"
        "1.;Jutta Leerdam;ned;1:12,31;OR\n"
        "2.;Femke Kok;NED;1:12,59;OR\n"
    )
    import_results(event=event, data=data.encode("utf-8"))
    assert table(event)[:2] == [
        (1, "Jutta Leerdam", "1:12.31", "finished", "OR"),
        (2, "Femke Kok", "1:12.59", "finished", "OR"),
    ]


def test_bad_file_reports_every_bad_row_and_stores_nothing(event):
    """Unknown nation, bad time, duplicate athlete: each line is named, nothing changes."""
    import_results(event=event, data=GOOD.encode())
    before = list(Result.objects.order_by("pk").values())
    athletes = Athlete.objects.count()
    data = """rank,athlete,nation,time
1,New Skater,XYZ,1:12.00
2,Femke Kok,NED,1:72.59
3,Miho Takagi,JPN,1:13.95
4,Miho Takagi,JPN,1:14.00
5,Another New,NED,abc
"""
    with pytest.raises(ResultsImportError) as error:
        import_results(event=event, data=data.encode())
    found = problems(error)
    assert [line for line, _ in found] == [2, 3, 5, 6]
    assert "Unknown nation “XYZ”" in found[0][1]
    assert "“1:72.59” is not a time: seconds must be below 60" in found[1][1]
    assert "Miho Takagi (JPN) is already on line 4" in found[2][1]
    assert "“abc” is not a time" in found[3][1]
    assert list(Result.objects.order_by("pk").values()) == before
    assert Athlete.objects.count() == athletes


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        ("rank,athlete,time\n1,A,1:12.31\n", 1, "Missing column “nation”"),
        ("athlete,nation\nA,NED\n", 1, "Missing column “time”"),
        ("rank,athlete,nation,time,colour\n1,A,NED,1:12.31,red\n", 1, "Unknown column “colour”"),
        ("athlete,nation,time,time\nA,NED,1:12.31,1:12.31\n", 1, "appears twice"),
        ("", 1, "The file is empty"),
        ("\n\n", 1, "The file is empty"),
        ("rank,athlete,nation,time\n", 1, "There are no results"),
        ("athlete,nation,time\nA,NED,1:12.31,extra\n", 2, "It has 4 values"),
        ("athlete,nation,time\n,NED,1:12.31\n", 2, "The athlete's name is missing"),
        ("athlete,nation,time\nA,,1:12.31\n", 2, "The nation is missing"),
        ("athlete,nation,time\nA,NED,\n", 2, "A finisher needs a time"),
        ("rank,athlete,nation,time\n1,A,NED,1:12.31\nx,B,NED,1:13.00\n", 3, "“x” is not a rank"),
        ("rank,athlete,nation,time\n1,A,NED,1:12.31\n,B,NED,1:13.00\n", 3, "The rank is missing"),
        ("rank,athlete,nation,time\n0,A,NED,1:12.31\n", 2, "“0” is not a rank"),
        ("rank,athlete,nation,time\n==1,A,NED,1:12.31\n", 2, "“==1” is not a rank"),
        ("athlete,nation,time\nA,NED,1:60:00.0\n", 2, "minutes must be below 60"),
        ("athlete,nation,time,status\nA,NED,DQ,DNF\n", 2, "A DNF has no time"),
        ("athlete,nation,time,status\nA,NED,1:12.31,DNF\n", 2, "A DNF has no time"),
        ("rank,athlete,nation,time\n3,A,NED,DNS\n", 2, "A DNS has no rank"),
        ("athlete,nation,time,status\nA,NED,1:12.31,retired\n", 2, "Unknown status “retired”"),
        ("athlete,nation,time,notes\nA,NED,1:12.31," + "X" * 41 + "\n", 2, "notes are too long"),
        ("athlete,nation,time\nA\u202eB,NED,1:12.31\n", 2, "characters that are not text"),
        ("athlete,nation,time\n" + "A" * 151 + ",NED,1:12.31\n", 2, "name is too long"),
        (
            "rank,athlete,nation,time\n1,A,NED,1:12.31\n2,B,NED,1:13.95\n3,C,NED,1:12.59\n",
            4,
            "Rank 3 in 1:12.59 is faster than rank 2 in 1:13.95",
        ),
        ('athlete,nation,time\n"A,NED,1:12.31\n', 2, "not valid CSV"),
    ],
)
def test_each_kind_of_bad_row_gets_its_line_and_reason(event, data, line, message):
    """Missing or unknown columns, empty files, bad ranks and statuses: a clear reason each."""
    with pytest.raises(ResultsImportError) as error:
        import_results(event=event, data=data.encode())
    assert any(found == line and message in text for found, text in problems(error)), problems(
        error
    )
    assert not event.results.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("athlete,nation,time\nMüller,NED,1:12.31\n".encode("latin-1"), "not UTF-8"),
        (b"athlete,nation,time\nA\x00,NED,1:12.31\n", "not a text CSV"),
        (b"x" * (MAX_BYTES + 1), "too big"),
    ],
)
def test_files_that_are_not_utf8_csv_text_are_refused(event, data, message):
    """A Latin-1 file, a binary file or a huge file is refused with a reason, not a crash."""
    with pytest.raises(ResultsImportError) as error:
        import_results(event=event, data=data)
    assert message in str(error.value)


def test_a_failure_while_writing_leaves_nothing_half_imported(event):
    """If the import dies halfway through writing, the earlier rows are rolled back too."""
    import_results(event=event, data=GOOD.encode())
    before = list(Result.objects.order_by("pk").values())

    def dies_after_two(rows):
        for index, row in enumerate(rows):
            if index == 2:
                raise RuntimeError("power cut")
            yield row

    changed = GOOD.replace("1:12.31", "1:12.30").replace("1:12.59", "1:12.58")
    with pytest.raises(RuntimeError):
        import_results(event=event, data=changed.encode(), progress=dies_after_two)
    assert list(Result.objects.order_by("pk").values()) == before


def test_new_athletes_get_a_free_slug_and_known_ones_are_reused(event):
    """A namesake from another nation gets its own slug; a known athlete is not duplicated."""
    known = make_athlete(name="Anna Visser", slug="anna-visser", nation=make_nation("NED"))
    data = "athlete,nation,time\nanna visser,NED,1:54.02\nAnna Visser,CAN,1:54.10\n"
    import_results(event=event, data=data.encode())
    assert event.results.get(athlete__nation__code="NED").athlete == known
    namesake = event.results.get(athlete__nation__code="CAN").athlete
    assert namesake.slug == "anna-visser-can"


def test_export_is_the_import_format_and_imports_back_unchanged(event):
    """The CSV export, fed back to the import, changes nothing."""
    import_results(event=event, data=GOOD.encode())
    out = io.StringIO()
    write_results(event=event, file=out)
    exported = out.getvalue()
    assert exported.splitlines()[:2] == [
        "rank,athlete,nation,time,status,notes",
        "1,Jutta Leerdam,NED,1:12.31,finished,OR",
    ]
    assert not import_results(event=event, data=exported.encode()).changed


def test_export_keeps_spreadsheets_from_running_formulas(event):
    """A name that looks like a formula is exported quoted, and still round-trips."""
    make_result(
        event=event,
        athlete=make_athlete(name='=HYPERLINK("http://x")', nation=make_nation("NED")),
        rank=1,
        time_ms=72_310,
    )
    out = io.StringIO()
    write_results(event=event, file=out)
    assert "'=HYPERLINK" in out.getvalue()
    assert not import_results(event=event, data=out.getvalue().encode()).changed


def test_command_imports_a_file_and_says_what_changed(event, tmp_path, capsys):
    """`manage.py import_results EVENT_SLUG FILE.csv` imports and reports the counts."""
    path = tmp_path / "results.csv"
    path.write_text(GOOD)
    call_command("import_results", event.slug, str(path))
    assert "5 added, 0 updated, 0 removed, 0 unchanged" in capsys.readouterr().out
    assert event.results.count() == 5
    call_command("import_results", event.slug, str(path))
    assert "0 added, 0 updated, 0 removed, 5 unchanged" in capsys.readouterr().out


def test_command_lists_every_bad_row_and_fails(event, tmp_path, capsys):
    """A bad file makes the command fail after printing each bad line; nothing is stored."""
    path = tmp_path / "results.csv"
    path.write_text("athlete,nation,time\nA,XYZ,1:12.31\nB,NED,soon\n")
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_results", event.slug, str(path))
    err = capsys.readouterr().err
    assert "Line 2: Unknown nation “XYZ”" in err
    assert "Line 3: “soon” is not a time" in err
    assert not event.results.exists()


@pytest.mark.parametrize(
    ("slug", "filename", "message"),
    [
        ("no-such-event", "results.csv", "no event with the slug"),
        (None, "missing.csv", "Cannot read"),
    ],
)
def test_command_refuses_unknown_events_and_missing_files(event, tmp_path, slug, filename, message):
    """An unknown event slug or an unreadable file is a one-line error, not a traceback."""
    (tmp_path / "results.csv").write_text(GOOD)
    with pytest.raises(CommandError, match=message):
        call_command("import_results", slug or event.slug, str(tmp_path / filename))
