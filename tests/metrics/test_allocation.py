"""SQL allocation, concentration and idle capacity: by hand, properties, engines."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import ConfigError, Dataset, SchemaError
from pipelinekit.metrics.allocation import (
    DEFAULT_CAPACITY_BANDS,
    idle_capacity,
    sql_allocation,
    sql_concentration,
)
from pipelinekit.reporting.sections import build_section
from pipelinekit.sample import generate_sample

T = pd.Timestamp


def ts(values: Sequence[Any]) -> pd.Series:
    return pd.to_datetime(pd.Series(list(values), dtype="object")).astype("datetime64[us]")


def missing(value: object) -> bool:
    """True for None and NaN cells."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def collected(result: object, *, lazy: bool) -> pd.DataFrame:
    """The pandas view of a polars result, checking it is lazy or eager as asked."""
    if lazy:
        assert isinstance(result, pl.LazyFrame)
        return result.collect().to_pandas()
    assert isinstance(result, pl.DataFrame)
    return result.to_pandas()


def small_sample() -> Dataset:
    tables: dict[str, Any] = generate_sample(leads=400, seed=3)
    return Dataset(**tables)


def reps_frame(rows: list[tuple[str, str, str | None, int | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": pd.Series([r[0] for r in rows], dtype="str"),
            "role": pd.Series([r[1] for r in rows], dtype="str"),
            "segment": pd.Series([r[2] for r in rows], dtype="str"),
            "monthly_sql_capacity": pd.array([r[3] for r in rows], dtype="Int64"),
        }
    )


def opps_frame(
    rows: list[tuple[str, str | None, str]],
    closed: dict[str, tuple[str, bool]] | None = None,
) -> pd.DataFrame:
    """(opportunity_id, owner_id, created_at); ``closed``: id -> (closed_at, is_won)."""
    closed = closed or {}
    ids = [r[0] for r in rows]
    return pd.DataFrame(
        {
            "opportunity_id": pd.Series(ids, dtype="str"),
            "owner_id": pd.Series([r[1] for r in rows], dtype="str"),
            "created_at": ts([r[2] for r in rows]),
            "closed_at": ts([closed[i][0] if i in closed else None for i in ids]),
            "is_won": pd.array([closed[i][1] if i in closed else None for i in ids], "boolean"),
        }
    )


# F1: segment band 60; F2: own capacity 2; F3: no capacity; F4: band 30, never an SQL;
# I1 is an inside rep (no row); X owns an SQL but is not in the reps table.
REPS = reps_frame(
    [
        ("F1", "field", "1-30", None),
        ("F2", "field", None, 2),
        ("F3", "field", None, None),
        ("F4", "field", "1000+", None),
        ("I1", "inside", None, None),
    ]
)
OPPS = opps_frame(
    [
        ("O01", "F2", "2025-04-01 09:00"),
        ("O02", "F2", "2025-04-15 09:00"),
        ("O03", "F2", "2025-04-30 23:59"),
        ("O04", "F1", "2025-04-10 10:00"),
        ("O05", "F3", "2025-04-11 10:00"),
        ("O06", "F3", "2025-04-12 10:00"),
        ("O07", "X", "2025-04-13 10:00"),
        ("O08", None, "2025-04-14 10:00"),  # unassigned: in no rep's count
        ("O09", "F2", "2025-05-02 10:00"),
        ("O10", "F2", "2025-05-20 10:00"),
        # June: no SQL at all
        ("O11", "F1", "2025-07-10 18:00"),
        ("O12", "F1", "2025-07-11 09:00"),  # after as_of
    ]
)
AS_OF = date(2025, 7, 10)
RIDS = ["F1", "F2", "F3", "F4", "X"]


def row(frame: pd.DataFrame, rep: str, period: str) -> dict[str, Any]:
    hit = frame[(frame["rep_id"] == rep) & (frame["period"] == T(period))]
    assert len(hit) == 1, (rep, period)
    return {str(k): v for k, v in hit.iloc[0].to_dict().items()}


# ---------------------------------------------------------------- sql_allocation


def test_allocation_grid_by_hand() -> None:
    out = sql_allocation(REPS, OPPS, as_of=AS_OF)
    # 5 reps (F1-F4 + owner X) x 4 months (Apr..Jul): every pair present, sorted
    assert len(out) == 20
    assert out["period"].drop_duplicates().tolist() == [
        T("2025-04-01"),
        T("2025-05-01"),
        T("2025-06-01"),
        T("2025-07-01"),
    ]
    assert out["rep_id"].tolist()[:5] == RIDS
    assert list(out.columns) == [
        "rep_id",
        "segment",
        "period",
        "partial",
        "sql_count",
        "monthly_capacity",
        "capacity",
        "capacity_source",
        "load",
        "status",
    ]
    # April: F2 3 SQLs > capacity 2 -> over (load 1.5)
    f2 = row(out, "F2", "2025-04-01")
    assert (f2["sql_count"], f2["capacity"], f2["load"], f2["status"]) == (3, 2.0, 1.5, "over")
    assert f2["capacity_source"] == "rep"
    # F1: 1 SQL / band 60
    f1 = row(out, "F1", "2025-04-01")
    assert (f1["sql_count"], f1["capacity"], f1["capacity_source"]) == (1, 60.0, "segment")
    assert f1["load"] == pytest.approx(1 / 60)
    assert f1["status"] == "ok"
    # F3 and X: no capacity -> unknown, no alert, load missing, SQLs still counted
    for rep, n in (("F3", 2), ("X", 1)):
        r = row(out, rep, "2025-04-01")
        assert r["sql_count"] == n
        assert r["status"] == "unknown"
        assert missing(r["capacity"])
        assert missing(r["load"])
    # F4 never had an SQL: load 0, not missing
    f4 = row(out, "F4", "2025-04-01")
    assert (f4["sql_count"], f4["capacity"], f4["load"], f4["status"]) == (0, 30.0, 0.0, "ok")
    # May: F2 2 SQLs = capacity 2 -> load 1.0 -> warning (>= 0.9), not over
    may = row(out, "F2", "2025-05-01")
    assert (may["load"], may["status"]) == (1.0, "warning")
    # June: a month with no SQL at all still has a row per rep, 0 SQLs
    june = out[out["period"] == T("2025-06-01")]
    assert june["sql_count"].tolist() == [0] * 5
    # July is cut at as_of (10 of 31 days): capacity 60 * 10/31; O12 is after as_of
    jul = row(out, "F1", "2025-07-01")
    assert jul["partial"]
    assert jul["sql_count"] == 1
    assert jul["capacity"] == pytest.approx(60 * 10 / 31)
    assert jul["load"] == pytest.approx(1 / (60 * 10 / 31))
    assert not row(out, "F1", "2025-06-01")["partial"]
    # I1 (inside rep) gets no row
    assert "I1" not in set(out["rep_id"])


def test_allocation_per_rep_sqls_sum_to_assigned_total() -> None:
    out = sql_allocation(REPS, OPPS, as_of=AS_OF)
    # 11 SQLs by as_of, one without owner
    assert out["sql_count"].sum() == 10


def test_allocation_without_as_of_ends_at_last_sql_and_is_full() -> None:
    out = sql_allocation(REPS, OPPS)
    assert out["period"].max() == T("2025-07-01")
    jul = row(out, "F1", "2025-07-01")
    assert not jul["partial"]
    assert (jul["sql_count"], jul["capacity"]) == (2, 60.0)  # O11 + O12, full month


def test_weekly_capacity_is_prorated_by_days_of_each_month() -> None:
    opps = opps_frame([("O1", "F2", "2025-03-31 10:00"), ("O2", "F2", "2025-04-07 10:00")])
    out = sql_allocation(REPS, opps, freq="week")
    # week of Mon 2025-03-31: 1 day of March (1/31) + 6 days of April (6/30)
    first = row(out, "F2", "2025-03-31")
    assert first["capacity"] == pytest.approx(2 * (1 / 31 + 6 / 30))
    # next week: 7 April days
    second = row(out, "F2", "2025-04-07")
    assert second["capacity"] == pytest.approx(2 * 7 / 30)
    assert first["status"] == second["status"] == "over"  # 1 SQL > ~0.46


def test_quarter_capacity_is_three_months_and_partial_quarter_prorated() -> None:
    out = sql_allocation(REPS, OPPS, freq="quarter", as_of=AS_OF)
    q2 = row(out, "F2", "2025-04-01")
    assert (q2["sql_count"], q2["capacity"], q2["status"]) == (5, 6.0, "ok")  # 5/6 = 0.83
    q3 = row(out, "F1", "2025-07-01")
    assert q3["partial"]
    assert q3["capacity"] == pytest.approx(60 * 10 / 31)


def test_capacity_bands_and_warn_at_are_configurable() -> None:
    out = sql_allocation(REPS, OPPS, as_of=AS_OF, capacity_bands={"1-30": 1}, warn_at=0.5)
    assert row(out, "F1", "2025-04-01")["status"] == "warning"  # 1 SQL / 1 -> load 1
    assert row(out, "F4", "2025-04-01")["status"] == "unknown"  # band 1000+ no longer known
    assert row(out, "F2", "2025-05-01")["status"] == "warning"


def test_no_sqls_gives_empty_frame_with_columns() -> None:
    out = sql_allocation(REPS, OPPS.iloc[:0], as_of=AS_OF)
    assert len(out) == 0
    assert "status" in out.columns


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"freq": "fortnight"}, "freq"),
        ({"warn_at": 1.5}, "warn_at"),
        ({"warn_at": 0}, "warn_at"),
        ({"capacity_bands": {"1-30": 0}}, "capacity_bands"),
        ({"capacity_bands": [60]}, "capacity_bands"),
        ({"as_of": "yesterday"}, "as_of"),
    ],
)
def test_allocation_bad_parameters_name_the_parameter(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        sql_allocation(REPS, OPPS, **kwargs)


def test_missing_columns_raise_schema_error() -> None:
    with pytest.raises(SchemaError, match="monthly_sql_capacity"):
        sql_allocation(REPS.drop(columns=["monthly_sql_capacity"]), OPPS)
    with pytest.raises(SchemaError, match="owner_id"):
        idle_capacity(REPS, OPPS.drop(columns=["owner_id"]))


# ------------------------------------------------------------- sql_concentration


def test_concentration_by_hand() -> None:
    out = sql_concentration(REPS, OPPS, as_of=AS_OF).set_index("period")
    # April: counts F1 1, F2 3, F3 2, F4 0, X 1 -> 7 SQLs over n = 5 reps
    apr = out.loc[T("2025-04-01")]
    assert (apr["rep_count"], apr["sql_count"]) == (5, 7)
    assert apr["top_rep_share"] == pytest.approx(3 / 7)
    assert apr["hhi"] == pytest.approx((1 + 9 + 4 + 0 + 1) / 49)
    # Gini: sorted 0,1,1,2,3; sum|xi-xj| over ordered pairs = 28; 28 / (2 * 25 * 1.4) = 0.4
    assert apr["gini"] == pytest.approx(0.4)
    # May: every SQL on F2 -> HHI 1, Gini at its maximum (n-1)/n = 4/5, top share 1
    may = out.loc[T("2025-05-01")]
    assert (may["top_rep_share"], may["hhi"]) == (1.0, 1.0)
    assert may["gini"] == pytest.approx(4 / 5)
    # June: no SQL -> shares undefined
    june = out.loc[T("2025-06-01")]
    assert june["sql_count"] == 0
    assert missing(june["hhi"])
    assert missing(june["gini"])
    assert not june["win_rate_pile_up"]


def test_even_allocation_has_hhi_1_over_n_and_gini_0() -> None:
    reps = reps_frame([("A", "field", None, None), ("B", "field", None, None)])
    opps = opps_frame([("1", "A", "2025-04-01"), ("2", "B", "2025-04-02")])
    out = sql_concentration(reps, opps)
    assert out["hhi"].tolist() == [0.5]
    assert out["gini"].tolist() == [0.0]


PILE_REPS = reps_frame([(f"R{i}", "field", None, None) for i in range(1, 5)])
# History closed in March: R1 2/2 won, R2 1/2, R3 0/2, R4 0/1 (unrated with min_closed=2)
PILE_OPPS = opps_frame(
    [
        ("H1", "R1", "2025-03-01"),
        ("H2", "R1", "2025-03-02"),
        ("H3", "R2", "2025-03-03"),
        ("H4", "R2", "2025-03-04"),
        ("H5", "R3", "2025-03-05"),
        ("H6", "R3", "2025-03-06"),
        ("H7", "R4", "2025-03-07"),
        ("M1", "R1", "2025-05-01"),
        ("M2", "R1", "2025-05-02"),
        ("M3", "R1", "2025-05-03"),
        ("M4", "R2", "2025-05-04"),
    ],
    closed={
        "H1": ("2025-03-20", True),
        "H2": ("2025-03-21", True),
        "H3": ("2025-03-22", True),
        "H4": ("2025-03-23", False),
        "H5": ("2025-03-24", False),
        "H6": ("2025-03-25", False),
        "H7": ("2025-03-26", False),
    },
)


def test_win_rate_pile_up_by_hand() -> None:
    out = sql_concentration(PILE_REPS, PILE_OPPS, min_closed=2).set_index("period")
    assert out.index.tolist() == [T("2025-03-01"), T("2025-04-01"), T("2025-05-01")]
    # March: nothing closed before March 1 -> nobody rated, no flag
    mar = out.loc[T("2025-03-01")]
    assert mar["rated_rep_count"] == 0
    assert missing(mar["pile_up_ratio"])
    assert not mar["win_rate_pile_up"]
    # May: rated R1 (100%), R2 (50%), R3 (0%); top quartile = ceil(3/4) = 1 rep = R1.
    # R1 has 3 of 4 SQLs (0.75) with 1 of 4 heads (0.25): ratio 3 >= 1.5 -> flagged
    may = out.loc[T("2025-05-01")]
    assert (may["rated_rep_count"], may["top_win_rate_rep_count"]) == (3, 1)
    assert may["top_win_rate_headcount_share"] == pytest.approx(0.25)
    assert may["top_win_rate_sql_share"] == pytest.approx(0.75)
    assert may["pile_up_ratio"] == pytest.approx(3.0)
    assert may["win_rate_pile_up"]
    # April has no SQL: ratio undefined
    assert missing(out.loc[T("2025-04-01"), "pile_up_ratio"])
    # a higher threshold clears the flag; a higher min_closed leaves nobody rated
    assert not sql_concentration(PILE_REPS, PILE_OPPS, min_closed=2, pile_up_threshold=3.5)[
        "win_rate_pile_up"
    ].any()
    strict = sql_concentration(PILE_REPS, PILE_OPPS, min_closed=3)
    assert strict["rated_rep_count"].tolist() == [0, 0, 0]


def test_win_rate_ties_break_on_closed_count_then_rep_id() -> None:
    # R1 1/1 and R2 2/2 both 100%: R2 (more closed deals) is the top rep
    opps = opps_frame(
        [
            ("H1", "R1", "2025-03-01"),
            ("H2", "R2", "2025-03-01"),
            ("H3", "R2", "2025-03-02"),
            ("M1", "R2", "2025-04-01"),
        ],
        closed={"H1": ("2025-03-10", True), "H2": ("2025-03-10", True), "H3": ("2025-03-11", True)},
    )
    reps = PILE_REPS.iloc[:2]
    out = sql_concentration(reps, opps, min_closed=1).set_index("period")
    apr = out.loc[T("2025-04-01")]
    # 2 rated, top ceil(2/4) = 1 = R2 holding 1 of 1 SQL: ratio 1 / 0.5 = 2
    assert apr["pile_up_ratio"] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"min_closed": 0}, "min_closed"), ({"pile_up_threshold": -1}, "pile_up_threshold")],
)
def test_concentration_bad_parameters(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        sql_concentration(REPS, OPPS, **kwargs)


# ------------------------------------------------------------------ idle_capacity


def test_idle_capacity_by_hand() -> None:
    out = idle_capacity(REPS, OPPS, as_of=AS_OF)
    apr = out[out["period"] == T("2025-04-01")].reset_index(drop=True)
    # known capacity only (F3, X left out); segments sorted, missing segment last
    assert apr["segment"].tolist()[:2] == ["1-30", "1000+"]
    assert pd.isna(apr["segment"][2])
    # 1-30: F1 1 SQL of 60 -> idle 59; 1000+: F4 0 of 30 -> idle 30;
    # no segment: F2 3 of 2 -> idle 0, excess 1, one rep over
    assert apr["sql_count"].tolist() == [1, 0, 3]
    assert apr["capacity"].tolist() == [60.0, 30.0, 2.0]
    assert apr["idle_capacity"].tolist() == [59.0, 30.0, 0.0]
    assert apr["excess_sqls"].tolist() == [0.0, 0.0, 1.0]
    assert apr["over_rep_count"].tolist() == [0, 0, 1]
    assert apr["utilization"].tolist() == pytest.approx([1 / 60, 0.0, 1.5])


# ---------------------------------------------------------------- engines, purity


def as_polars(frame: pd.DataFrame) -> pl.DataFrame:
    return pl.from_pandas(frame)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize(
    "call",
    [
        lambda o, r: sql_allocation(r, o, as_of=AS_OF),
        lambda o, r: sql_allocation(r, o, freq="week"),
        lambda o, r: sql_concentration(r, o, as_of=AS_OF, min_closed=1),
        lambda o, r: idle_capacity(r, o, as_of=AS_OF),
    ],
)
def test_polars_eager_and_lazy_agree_with_pandas(call: Any, lazy: bool) -> None:
    for opps in (OPPS, PILE_OPPS):
        expected = call(opps, REPS if opps is OPPS else PILE_REPS)
        o, r = as_polars(opps), as_polars(REPS if opps is OPPS else PILE_REPS)
        got = call(o.lazy(), r.lazy()) if lazy else call(o, r)
        pd.testing.assert_frame_equal(collected(got, lazy=lazy), expected, check_dtype=False)


def test_functions_do_not_mutate_inputs() -> None:
    opps, reps = OPPS.copy(deep=True), REPS.copy(deep=True)
    sql_allocation(reps, opps, as_of=AS_OF)
    sql_concentration(reps, opps)
    idle_capacity(reps, opps, freq="week")
    pd.testing.assert_frame_equal(opps, OPPS)
    pd.testing.assert_frame_equal(reps, REPS)


def test_report_section_tables() -> None:
    ds = small_sample()
    section = build_section("allocation", ds, date(2025, 10, 15))
    assert section.key == "allocation"
    assert set(section.tables) == {"load", "concentration", "idle capacity"}
    load = section.tables["load"]
    fs = ds.reps[ds.reps["role"] == "field"]["rep_id"]
    assert set(fs) <= set(load["rep_id"])  # every FS rep, September 2025
    assert len(section.tables["concentration"]) <= 12


# ----------------------------------------------------------------- properties


def reference_counts(opps: pd.DataFrame, as_of: date | None) -> Counter[tuple[str, datetime]]:
    counts: Counter[tuple[str, datetime]] = Counter()
    for owner, created in zip(opps["owner_id"], opps["created_at"], strict=True):
        if pd.isna(owner) or (as_of is not None and created.date() > as_of):
            continue
        counts[(owner, datetime(created.year, created.month, 1))] += 1
    return counts


def reference_gini(xs: list[int]) -> float:
    n, total = len(xs), sum(xs)
    return sum(abs(a - b) for a in xs for b in xs) / (2 * n * n * (total / n))


@st.composite
def allocation_data(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, date | None]:
    n_reps = draw(st.integers(1, 5))
    reps = reps_frame(
        [
            (
                f"R{i}",
                draw(st.sampled_from(["field", "field", "inside"])),
                draw(st.sampled_from([None, *DEFAULT_CAPACITY_BANDS])),
                draw(st.one_of(st.none(), st.integers(1, 5))),
            )
            for i in range(n_reps)
        ]
    )
    owners = st.sampled_from([None, "ZZ", *reps["rep_id"]])
    start = datetime(2025, 1, 1)
    rows = [
        (
            f"O{i}",
            draw(owners),
            str(start + timedelta(hours=draw(st.integers(0, 24 * 150)))),
        )
        for i in range(draw(st.integers(0, 25)))
    ]
    as_of = draw(st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2025, 6, 30))))
    return opps_frame(rows), reps, as_of


# 200 examples take about a minute here (each call builds ~40 narwhals expressions);
# 50 keep the file under 30 s.
@settings(max_examples=50, deadline=None)
@given(allocation_data())
def test_allocation_properties(data: tuple[pd.DataFrame, pd.DataFrame, date | None]) -> None:
    opps, reps, as_of = data
    out = sql_allocation(reps, opps, as_of=as_of)
    counts = reference_counts(opps, as_of)
    # per-rep SQLs sum to the total of SQLs with an owner; every count matches
    assert out["sql_count"].sum() == sum(counts.values())
    got = {
        (r, p.to_pydatetime()): n
        for r, p, n in zip(out["rep_id"], out["period"], out["sql_count"], strict=True)
        if n
    }
    assert got == dict(counts)
    # a full grid: every rep in every period, once; statuses agree with the load
    if len(out):
        n_periods = out["period"].nunique()
        assert len(out) == n_periods * out["rep_id"].nunique()
        field = set(reps.loc[reps["role"] == "field", "rep_id"])
        assert field <= set(out["rep_id"])
    unknown = out["capacity"].isna()
    assert (out.loc[unknown, "status"] == "unknown").all()
    known = out[~unknown]
    assert ((known["status"] == "over") == (known["sql_count"] > known["capacity"])).all()
    # shuffled input, same output
    shuffled = sql_allocation(reps.iloc[::-1], opps.sample(frac=1, random_state=1), as_of=as_of)
    pd.testing.assert_frame_equal(shuffled, out)


@settings(max_examples=40, deadline=None)
@given(allocation_data())
def test_concentration_properties(data: tuple[pd.DataFrame, pd.DataFrame, date | None]) -> None:
    opps, reps, as_of = data
    out = sql_concentration(reps, opps, as_of=as_of, min_closed=1)
    grid = sql_allocation(reps, opps, as_of=as_of)
    for _, r in out.iterrows():
        xs = grid.loc[grid["period"] == r["period"], "sql_count"].tolist()
        n = len(xs)
        assert r["rep_count"] == n
        assert r["sql_count"] == sum(xs)
        if sum(xs) == 0:
            assert missing(r["hhi"])
            continue
        shares = [x / sum(xs) for x in xs]
        assert sum(shares) == pytest.approx(1.0)
        assert 1 / n - 1e-12 <= r["hhi"] <= 1 + 1e-12
        assert r["hhi"] == pytest.approx(sum(s * s for s in shares))
        assert r["top_rep_share"] == pytest.approx(max(shares))
        assert r["gini"] == pytest.approx(reference_gini(xs), abs=1e-12)
        assert -1e-12 <= r["gini"] <= (n - 1) / n + 1e-12
    lazy = sql_concentration(
        as_polars(reps).lazy(), as_polars(opps).lazy(), as_of=as_of, min_closed=1
    )
    pd.testing.assert_frame_equal(
        nw.from_native(lazy).collect().to_pandas(), out, check_dtype=False
    )
