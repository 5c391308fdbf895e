"""Periods: the as_of cut-off, period buckets, elapsed time and the business-day calendar
(Japanese public holidays), in Python and as engine-portable expressions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import narwhals as nw
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import ConfigError
from pipelinekit.periods import (
    CALENDAR_YEARS,
    as_of_cutoff,
    business_days,
    elapsed_seconds,
    epoch_seconds,
    holiday_dates,
    is_business_day,
    is_business_day_expr,
    next_business_day,
    next_business_day_start,
    parse_as_of,
    period_start,
)


def test_as_of_cutoff_is_the_end_of_the_day() -> None:
    assert as_of_cutoff("2025-03-31") == datetime(2025, 4, 1)
    assert as_of_cutoff(datetime(2025, 3, 31, 23, 59)) == datetime(2025, 4, 1)
    assert parse_as_of(date(2025, 1, 2)) == date(2025, 1, 2)
    with pytest.raises(ConfigError, match="as_of must be a date"):
        parse_as_of("31/03/2025")


def test_period_start_buckets() -> None:
    frame = nw.from_native(pl.DataFrame({"t": [datetime(2025, 5, 18, 23, 59)]}))  # a Sunday
    starts = {
        freq: frame.select(period_start(nw.col("t"), freq)).item()
        for freq in ("day", "week", "month", "quarter", "year")
    }
    assert starts == {
        "day": datetime(2025, 5, 18),
        "week": datetime(2025, 5, 12),  # ISO week starts on Monday
        "month": datetime(2025, 5, 1),
        "quarter": datetime(2025, 4, 1),
        "year": datetime(2025, 1, 1),
    }


# --------------------------------------------------------------------------- calendar


def test_japanese_holidays() -> None:
    assert [d.isoformat() for d in holiday_dates("2025-01-01", "2025-01-31")] == [
        "2025-01-01",  # New Year's Day
        "2025-01-13",  # Coming of Age Day (second Monday)
    ]
    # Golden Week 2025: 04-29, 05-03 (Sat), 05-04 (Sun), 05-05, substitute 05-06
    assert [d.day for d in holiday_dates("2025-04-28", "2025-05-07")] == [29, 3, 4, 5, 6]


def test_business_days_between() -> None:
    days = business_days("2025-01-09", "2025-01-15")
    # Thu, Fri, (Sat, Sun, Mon holiday), Tue, Wed
    assert [d.isoformat() for d in days] == [
        "2025-01-09", "2025-01-10", "2025-01-14", "2025-01-15",
    ]  # fmt: skip
    assert business_days("2025-01-15", "2025-01-09") == []
    # Golden Week: 04-28, 04-30, 05-01, 05-02, 05-07 (04-29 and 05-03..05-06 are off)
    assert [d.day for d in business_days("2025-04-28", "2025-05-07")] == [28, 30, 1, 2, 7]


def test_is_business_day() -> None:
    assert is_business_day("2025-01-10")  # Friday
    assert not is_business_day("2025-01-11")  # Saturday
    assert not is_business_day("2025-01-13")  # Coming of Age Day
    assert is_business_day(date(2025, 1, 13), country="US")  # not a US holiday
    assert not is_business_day(datetime(2025, 1, 20, 9), country="US")  # MLK day


def test_next_business_day() -> None:
    assert next_business_day("2025-01-10") == date(2025, 1, 14)  # Fri before a Monday holiday
    assert next_business_day("2025-01-17") == date(2025, 1, 20)  # ordinary Friday -> Monday
    assert next_business_day("2025-01-11") == date(2025, 1, 14)  # Saturday
    assert next_business_day("2025-05-02") == date(2025, 5, 7)  # before Golden Week
    assert next_business_day("2025-12-31") == date(2026, 1, 2)  # New Year's Day
    assert next_business_day("2025-01-14") == date(2025, 1, 15)


def test_unknown_country() -> None:
    with pytest.raises(ConfigError, match="country must be"):
        business_days("2025-01-01", "2025-01-31", country="ZZ")
    with pytest.raises(ConfigError, match="country must be"):
        next_business_day_start(nw.col("t"), country="Atlantis")
    with pytest.raises(ConfigError, match="day must be a date"):
        next_business_day("soon")


def _frames(stamps: list[datetime], *, duckdb_too: bool) -> list[nw.LazyFrame[object]]:
    frame = pl.DataFrame({"t": stamps}, schema={"t": pl.Datetime("us")})
    out = [
        nw.from_native(frame).lazy(),
        nw.from_native(pd.DataFrame({"t": pd.Series(stamps, dtype="datetime64[us]")})).lazy(),
    ]
    if duckdb_too:  # a DuckDB relation costs ~0.1 s to bind: not in every example
        con = duckdb.connect()
        con.register("f", frame)
        out.append(nw.from_native(con.sql("select * from f")))
    return out


_STAMPS = st.datetimes(
    min_value=datetime(CALENDAR_YEARS.start, 1, 1),
    max_value=datetime(CALENDAR_YEARS.stop - 1, 12, 20),
)


def _check_calendar_expressions(stamps: list[datetime], *, duckdb_too: bool) -> None:
    expected = [datetime.combine(next_business_day(s), datetime.min.time()) for s in stamps]
    business = [is_business_day(s) for s in stamps]
    for frame in _frames(stamps, duckdb_too=duckdb_too):
        got = frame.select(
            next_business_day_start(nw.col("t")).alias("next"),
            is_business_day_expr(nw.col("t")).alias("business"),
        ).collect()
        assert got["next"].to_list() == expected, frame.implementation
        assert got["business"].to_list() == business, frame.implementation


@settings(max_examples=60, deadline=None)
@given(st.lists(_STAMPS, min_size=1, max_size=40))
def test_next_business_day_expression_matches_python(stamps: list[datetime]) -> None:
    _check_calendar_expressions(stamps, duckdb_too=False)


def test_next_business_day_expression_on_every_day_of_2019_and_2025() -> None:
    # 2019 had ten days off in a row around the enthronement (04-27 .. 05-06)
    days = [datetime(year, 1, 1, 23, 59) + timedelta(days=k) for year in (2019, 2025)
            for k in range(365)]  # fmt: skip
    _check_calendar_expressions(days, duckdb_too=True)


def test_next_business_day_expression_keeps_nulls() -> None:
    frame = nw.from_native(pl.DataFrame({"t": [None, datetime(2025, 1, 10)]},
                                        schema={"t": pl.Datetime("us")}))  # fmt: skip
    assert frame.select(next_business_day_start(nw.col("t")))["t"].to_list() == [
        None, datetime(2025, 1, 14),
    ]  # fmt: skip


# --------------------------------------------------------------------------- elapsed


def test_epoch_seconds_known_values() -> None:
    stamps = [
        datetime(1970, 1, 1),
        datetime(2000, 2, 29, 12, 0, 0, 500_000),
        datetime(1969, 12, 31),
    ]
    frame = nw.from_native(pl.DataFrame({"t": stamps}, schema={"t": pl.Datetime("us")}))
    got = frame.select(epoch_seconds(nw.col("t")))["t"].to_list()
    assert got == [0.0, 951825600.5, -86400.0]


def _check_elapsed(pairs: list[tuple[datetime, datetime]], *, duckdb_too: bool) -> None:
    starts, ends = [p[0] for p in pairs], [p[1] for p in pairs]
    expected = [(e - s).total_seconds() for s, e in pairs]
    frame = pl.DataFrame({"s": starts, "e": ends}, schema={"s": pl.Datetime("us"),
                                                           "e": pl.Datetime("us")})  # fmt: skip
    natives: list[object] = [frame.lazy(), frame.to_pandas()]
    if duckdb_too:
        con = duckdb.connect()
        con.register("f", frame)
        natives.append(con.sql("select * from f"))
    for native in natives:
        got = (
            nw.from_native(native)
            .lazy()
            .select(elapsed_seconds(nw.col("s"), nw.col("e")).alias("d"))
            .collect()["d"]
            .to_list()
        )
        assert got == pytest.approx(expected, abs=1e-6)


@settings(max_examples=60, deadline=None)  # the expression is large: ~0.1 s per engine
@given(st.lists(st.tuples(_STAMPS, _STAMPS), min_size=1, max_size=20))
def test_elapsed_seconds_matches_python(pairs: list[tuple[datetime, datetime]]) -> None:
    _check_elapsed(pairs, duckdb_too=False)


def test_elapsed_seconds_on_duckdb() -> None:
    pairs = [
        (datetime(2024, 2, 28, 23, 59, 59), datetime(2024, 3, 1, 0, 0, 1)),  # leap day
        (datetime(2025, 4, 1, 9, 0), datetime(2025, 4, 1, 8, 0, 0, 250_000)),  # negative
        (datetime(2000, 1, 1), datetime(2050, 12, 31, 23, 59, 59, 999_999)),
    ]
    _check_elapsed(pairs, duckdb_too=True)
