"""Race times are read the way editors type them and shown the way the sport writes them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from articles.times import (
    RankFormatError,
    TimeFormatError,
    assign_ranks,
    format_behind,
    format_time,
    parse_rank,
    parse_status,
    parse_time,
    rank_order_errors,
)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1:12.31", 72_310),
        ("72.31", 72_310),
        ("1:12,31", 72_310),
        (" 1:12.31 ", 72_310),
        ("36.49", 36_490),
        ("1:12.315", 72_315),
        ("72.3", 72_300),
        ("59", 59_000),
        ("0:59.99", 59_990),
        ("2:05.00", 125_000),
        ("1:53.845", 113_845),
        ("1:02:03.4", 3_723_400),
        ("0:01:12.31", 72_310),
        ("2:00:00", 7_200_000),
        ("10:59:59.999", 39_599_999),
        ("1:02:03,45", 3_723_450),
    ],
)
def test_parses_hours_minutes_seconds_hundredths_and_thousandths(text, ms):
    """Hours and minutes are optional (h:mm:ss), the decimal mark may be a point or a comma,
    up to thousandths."""
    assert parse_time(text) == ms


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        None,
        "abc",
        "1:60.00",
        "1:2.31",
        "1.12.31",
        "-1.00",
        "+0.28",
        "1:12.3456",
        "0.00",
        "1:12.31.5",
        "1:2:03.4",
        "1:02:3.4",
        "1:60:00.0",
        "1:02:60.0",
        "1:02:03:04",
        "123:02:03",
        "١:١٢.٣١",  # digits from another script
        "1 : 12.31",
        "1:12.31\n5",
    ],
)
def test_anything_else_is_a_clear_error(text):
    """Junk is refused with a message that shows how to write a time."""
    with pytest.raises(TimeFormatError) as error:
        parse_time(text)
    assert "is not a time" in str(error.value)


def test_error_says_how_to_write_a_time():
    """The message names the accepted forms so an editor can fix the cell."""
    with pytest.raises(TimeFormatError, match=r"1:12\.31, 72\.31 or 1:12,31 .*1:02:03\.4"):
        parse_time("1m12s")


@pytest.mark.parametrize(
    ("text", "rank"),
    [
        ("3", 3),
        ("3.", 3),
        ("=1", 1),
        ("T2", 2),
        ("t2", 2),
        ("2=", 2),
        ("3rd", 3),
        ("1st", 1),
        (" 14 ", 14),
        ("9999", 9999),
    ],
)
def test_ranks_as_results_sheets_write_them(text, rank):
    """A tie reads =1 or T1; 3. and 3rd are the third place."""
    assert parse_rank(text) == rank


@pytest.mark.parametrize("text", ["", None, "0", "-1", "10000", "first", "1/2", "==1", "1.5"])
def test_anything_else_is_not_a_rank(text):
    """Junk in a rank cell is a clear error saying how a tie is written."""
    with pytest.raises(RankFormatError, match=r"is not a rank: .*=3"):
        parse_rank(text)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("", "finished"),
        ("finished", "finished"),
        ("Finished", "finished"),
        ("DNF", "DNF"),
        ("dnf", "DNF"),
        ("D.N.F.", "DNF"),
        ("Did not finish", "DNF"),
        ("DNS", "DNS"),
        ("dns", "DNS"),
        ("Did not start", "DNS"),
        ("DSQ", "DSQ"),
        ("DQ", "DSQ"),
        ("dq", "DSQ"),
        ("DQB", "DSQ"),
        ("Disqualified", "DSQ"),
        ("nonsense", None),
        ("1:12.31", None),
    ],
)
def test_statuses_in_their_usual_forms(text, status):
    """DQ, DSQ and DQB are all disqualified; case, dots and spaces do not matter."""
    assert parse_status(text) == status


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (72_310, "1:12.31"),
        (36_490, "36.49"),
        (72_315, "1:12.315"),
        (60_000, "1:00.00"),
        (61_005, "1:01.005"),
        (5, "0.005"),
        (113_840, "1:53.84"),
        (3_723_400, "1:02:03.40"),
        (3_600_000, "1:00:00.00"),
        (3_599_990, "59:59.99"),
        (36_061_005, "10:01:01.005"),
        (None, ""),
    ],
)
def test_formats_like_the_sport(ms, text):
    """Hundredths normally, thousandths only when the time has them, minutes and hours only when
    needed (an hour or more reads h:mm:ss.ff)."""
    assert format_time(ms) == text


@given(st.integers(min_value=1, max_value=99 * 3_600_000))
def test_every_stored_time_survives_a_round_trip(ms):
    """Whatever is shown can be typed back in and gives the same milliseconds."""
    assert parse_time(format_time(ms)) == ms


@pytest.mark.parametrize(
    ("ms", "winner", "text"),
    [
        (72_590, 72_310, "+0.28"),
        (73_950, 72_310, "+1.64"),
        (37_150, 36_490, "+0.66"),
        (134_410, 72_310, "+1:02.10"),
        (72_311, 72_310, "+0.001"),
        (72_310, 72_310, ""),
        (None, 72_310, ""),
        (72_310, None, ""),
    ],
)
def test_behind_the_winner(ms, winner, text):
    """The gap to the winner reads +0.28; the winner and a DNF show none."""
    assert format_behind(ms, winner) == text


def test_ties_share_a_rank_and_the_next_is_skipped():
    """Two equal times share second place and nobody is third."""
    assert assign_ranks([72_310, 72_590, 72_590, 73_950]) == [1, 2, 2, 4]


def test_ranks_follow_times_in_any_order_and_dnf_gets_none():
    """Ranks come from the times, not the row order; a DNF (no time) gets no rank."""
    assert assign_ranks([None, 73_950, 72_310, 72_590, None, 72_310]) == [
        None,
        4,
        1,
        3,
        None,
        1,
    ]


def test_a_better_rank_may_not_have_a_slower_time():
    """A row ranked behind someone yet faster than them is flagged; ties and gaps are fine."""
    fine = [(1, 72_310), (2, 72_590), (2, 72_590), (14, None), (None, None)]
    assert rank_order_errors(fine) == {}
    errors = rank_order_errors([(1, 72_310), (2, 73_950), (3, 72_590)])
    assert list(errors) == [2]
    assert "Rank 3 in 1:12.59 is faster than rank 2 in 1:13.95" in errors[2]


def test_rank_order_compares_against_every_row_ahead():
    """A row is checked against all better ranks, not only against its own tied group."""
    assert list(rank_order_errors([(1, 60_000), (2, 90_000), (2, 50_000)])) == [2]
