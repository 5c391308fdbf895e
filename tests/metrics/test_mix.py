"""SQL mix and the origin comparison: by hand, properties, engines, purity."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import ConfigError, Dataset, SchemaError
from pipelinekit.metrics.mix import origin_comparison, sql_mix
from pipelinekit.rates import ZeroDenominatorError
from pipelinekit.reporting.sections import build_section
from pipelinekit.sample import generate_sample

AS_OF = date(2025, 5, 31)
T = pd.Timestamp


def ts(values: Sequence[Any]) -> pd.Series:
    return pd.to_datetime(pd.Series(list(values), dtype="object")).astype("datetime64[us]")


def text(values: Sequence[str | None]) -> pd.Series:
    return pd.Series(list(values), dtype="str")


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


LEADS = pd.DataFrame(
    {
        "lead_id": text(["L1", "L2", "L3"]),
        "account_id": text(["A1", "A2", "A2"]),
        "origin": text(["inbound", "inbound", "outbound"]),
        "department": text(["it", "sales", "it"]),
        "title": text(["manager", "staff", "staff"]),
    }
)
ACCOUNTS = pd.DataFrame(
    {
        "account_id": text(["A1", "A2", "A3"]),
        "region": text(["kanto", "kansai", "kanto"]),
        "employees": pd.array([20, 500, 1500], dtype="Int64"),
    }
)
# O1 inbound via its lead; O2 outbound by its own origin (its lead is inbound);
# O3 has no lead and no origin -> unknown; O4 outbound via its lead; O5 inbound (May);
# O6 after as_of.
OPPS = pd.DataFrame(
    {
        "opportunity_id": text(["O1", "O2", "O3", "O4", "O5", "O6"]),
        "lead_id": text(["L1", "L2", None, "L3", "L1", "L2"]),
        "account_id": text([None, "A3", "A1", None, None, None]),
        "origin": text([None, "outbound", None, None, None, None]),
        "product": text(["p1", "p2", "p1", "p2", "p1", "p1"]),
        "amount": pd.Series([500_000.0, 2_000_000.0, None, 5_000_000.0, 100_000.0, 1.0]),
        "created_at": ts(["2025-04-01 10:00", "2025-04-02 10:00", "2025-04-03 10:00",
                          "2025-04-05 10:00", "2025-05-03 10:00", "2025-06-02 10:00"]),
        "validated_at": ts(["2025-04-05", None, "2025-04-10", "2025-04-20", None, "2025-06-03"]),
        "closed_at": ts(["2025-04-21 10:00", "2025-04-15 10:00", None, "2025-05-10 10:00", None,
                         "2025-06-04 10:00"]),
        "is_won": pd.array([True, False, None, True, None, True], dtype="boolean"),
    }
)  # fmt: skip


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    return [
        tuple(None if not isinstance(v, str) and pd.isna(v) else v for v in r)
        for r in frame[list(columns)].itertuples(index=False)
    ]


# ------------------------------------------------------------------- sql_mix


def test_monthly_mix_by_hand() -> None:
    out = sql_mix(LEADS, OPPS, as_of=AS_OF)
    assert list(out.columns) == [
        "period", "origin", "numerator", "denominator", "rate", "ci_low", "ci_high",
    ]  # fmt: skip
    # April: O1 inbound, O2 O4 outbound, O3 unknown -> 1/4, 2/4, 1/4
    # May: O5 inbound -> 1/1, and an outbound row at 0 (no unknown row when there is none)
    assert rows(out, "period", "origin", "numerator", "denominator", "rate") == [
        (T("2025-04-01"), "inbound", 1, 4, 0.25),
        (T("2025-04-01"), "outbound", 2, 4, 0.5),
        (T("2025-04-01"), "unknown", 1, 4, 0.25),
        (T("2025-05-01"), "inbound", 1, 1, 1.0),
        (T("2025-05-01"), "outbound", 0, 1, 0.0),
    ]
    assert (out["ci_low"] <= out["rate"]).all()
    assert (out["rate"] <= out["ci_high"]).all()
    # without as_of, June's O6 counts too
    assert sql_mix(LEADS, OPPS)["period"].max() == T("2025-06-01")


def test_mix_by_employee_band_uses_the_opportunity_account_else_the_leads() -> None:
    out = sql_mix(LEADS, OPPS, accounts=ACCOUNTS, by="employee_band", as_of=AS_OF)
    april = out[out["period"] == T("2025-04-01")]
    # O1 -> lead L1 -> A1 (20): inbound; O3 -> A1: unknown; O2 -> A3 (1500): outbound;
    # O4 -> lead L3 -> A2 (500): outbound
    assert rows(april, "employee_band", "origin", "numerator", "denominator") == [
        ("1-30", "inbound", 1, 2),
        ("1-30", "outbound", 0, 2),
        ("1-30", "unknown", 1, 2),
        ("1000+", "inbound", 0, 1),
        ("1000+", "outbound", 1, 1),
        ("300-999", "inbound", 0, 1),
        ("300-999", "outbound", 1, 1),
    ]


def test_mix_by_department_keeps_sqls_without_lead_in_the_null_group() -> None:
    out = sql_mix(LEADS, OPPS, by="department", as_of=AS_OF)
    april = out[out["period"] == T("2025-04-01")]
    assert rows(april, "department", "origin", "numerator", "denominator") == [
        ("it", "inbound", 1, 2),  # O1
        ("it", "outbound", 1, 2),  # O4
        ("sales", "inbound", 0, 1),
        ("sales", "outbound", 1, 1),  # O2
        (None, "inbound", 0, 1),
        (None, "outbound", 0, 1),
        (None, "unknown", 1, 1),  # O3: no lead
    ]


def test_mix_without_period_by_product() -> None:
    out = sql_mix(LEADS, OPPS, freq=None, by="product", as_of=AS_OF)
    assert "period" not in out.columns
    # p1: O1 O5 inbound, O3 unknown; p2: O2 O4 outbound
    assert rows(out, "product", "origin", "numerator", "denominator") == [
        ("p1", "inbound", 2, 3),
        ("p1", "outbound", 0, 3),
        ("p1", "unknown", 1, 3),
        ("p2", "inbound", 0, 2),
        ("p2", "outbound", 2, 2),
    ]


def test_mix_by_amount_band_region_and_title() -> None:
    out = sql_mix(
        LEADS, OPPS, accounts=ACCOUNTS, freq=None, by=["amount_band", "region"], as_of=AS_OF
    )
    got = {(r[0], r[1], r[2]): r[3] for r in rows(out, "amount_band", "region", "origin",
                                                    "numerator") if r[3]}  # fmt: skip
    # O1 <1M kanto (A1) inbound, O5 <1M kanto inbound, O2 1M-3M kanto (A3) outbound,
    # O4 3M-10M kansai (A2) outbound, O3 no amount, kanto (A1) unknown
    assert got == {
        ("<1M", "kanto", "inbound"): 2,
        ("1M-3M", "kanto", "outbound"): 1,
        ("3M-10M", "kansai", "outbound"): 1,
        (None, "kanto", "unknown"): 1,
    }
    titles = sql_mix(LEADS, OPPS, freq=None, by="title", as_of=AS_OF)
    assert set(titles["title"].dropna()) == {"manager", "staff"}


def test_mix_parameter_errors() -> None:
    with pytest.raises(ConfigError, match="freq"):
        sql_mix(LEADS, OPPS, freq="hour")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="origin"):
        sql_mix(LEADS, OPPS, by="origin")
    with pytest.raises(ConfigError, match="accounts"):
        sql_mix(LEADS, OPPS, by="region")
    with pytest.raises(ConfigError, match="colour"):
        sql_mix(LEADS, OPPS, by="colour")
    with pytest.raises(ConfigError, match="zero_division"):
        sql_mix(LEADS, OPPS, zero_division="none")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="origin"):
        sql_mix(LEADS.drop(columns=["origin"]), OPPS)


# -------------------------------------------------------------- origin_comparison


def test_origin_comparison_by_hand() -> None:
    out = origin_comparison(LEADS, OPPS, as_of=AS_OF).set_index("origin")
    assert out.index.tolist() == ["inbound", "outbound", "unknown"]
    # inbound: O1 (valid, won in 20 d), O5 (open) -> valid 1/2, won 1/1 closed
    inbound = out.loc["inbound"]
    assert (inbound["sql_count"], inbound["valid_count"], inbound["valid_rate"]) == (2, 1, 0.5)
    assert (inbound["closed_count"], inbound["won_count"], inbound["win_rate"]) == (1, 1, 1.0)
    assert inbound["median_cycle_days"] == pytest.approx(20.0)
    # outbound: O2 (lost), O4 (valid, won 04-05 10:00 -> 05-10 10:00 = 35 d)
    outbound = out.loc["outbound"]
    assert (outbound["valid_rate"], outbound["win_rate"]) == (0.5, 0.5)
    assert outbound["mean_cycle_days"] == pytest.approx(35.0)
    assert outbound["win_ci_low"] < 0.5 < outbound["win_ci_high"]
    # unknown: O3 only, valid, still open -> nothing closed: win rate NaN (zero_division)
    unknown = out.loc["unknown"]
    assert (unknown["sql_count"], unknown["valid_rate"], unknown["closed_count"]) == (1, 1.0, 0)
    assert missing(unknown["win_rate"])
    assert missing(unknown["win_ci_low"])
    assert missing(unknown["median_cycle_days"])


def test_origin_comparison_leaves_negative_cycles_out() -> None:
    # O7: an inbound deal won the day before it was created (a plausibility warning,
    # kept): counted as won, left out of the inbound cycle days (O1's 20 days remain)
    extra = pd.DataFrame(
        {
            "opportunity_id": text(["O7"]),
            "lead_id": text(["L2"]),
            "account_id": text([None]),
            "origin": text([None]),
            "product": text(["p1"]),
            "amount": pd.Series([1.0]),
            "created_at": ts(["2025-05-05 10:00"]),
            "validated_at": ts([None]),
            "closed_at": ts(["2025-05-04 10:00"]),
            "is_won": pd.array([True], dtype="boolean"),
        }
    )
    opps = pd.concat([OPPS, extra], ignore_index=True)
    out = origin_comparison(LEADS, opps, as_of=AS_OF).set_index("origin")
    inbound = out.loc["inbound"]
    assert (inbound["won_count"], inbound["excluded_negative_count"]) == (2, 1)
    assert inbound["median_cycle_days"] == pytest.approx(20.0)
    assert inbound["mean_cycle_days"] == pytest.approx(20.0)
    assert out["excluded_negative_count"].tolist() == [1, 0, 0]


def test_origin_comparison_as_of_earlier_day() -> None:
    # as of 04-30: O4 is not closed yet (05-10), O5 does not exist
    out = origin_comparison(LEADS, OPPS, as_of="2025-04-30").set_index("origin")
    assert out.loc["outbound", "closed_count"] == 1
    assert out.loc["outbound", "win_rate"] == 0.0
    assert out.loc["inbound", "sql_count"] == 1


def test_origin_comparison_zero_division_policy() -> None:
    zero = origin_comparison(LEADS, OPPS, as_of=AS_OF, zero_division="0").set_index("origin")
    assert zero.loc["unknown", "win_rate"] == 0.0
    with pytest.raises(ZeroDenominatorError, match="origin_comparison"):
        origin_comparison(LEADS, OPPS, as_of=AS_OF, zero_division="raise")


def test_origin_with_no_sqls_still_has_a_row() -> None:
    inbound_only = OPPS[OPPS["opportunity_id"].isin(["O1", "O5"])]
    out = origin_comparison(LEADS, inbound_only, as_of=AS_OF).set_index("origin")
    assert out.index.tolist() == ["inbound", "outbound"]
    assert out.loc["outbound", "sql_count"] == 0
    assert missing(out.loc["outbound", "valid_rate"])
    mix = sql_mix(LEADS, inbound_only, as_of=AS_OF)
    assert rows(mix, "origin", "numerator")[:2] == [("inbound", 1), ("outbound", 0)]


# ----------------------------------------------------------- engines, purity

CALLS: list[Callable[..., Any]] = [
    lambda o, lead, a: sql_mix(lead, o, as_of=AS_OF),
    lambda o, lead, a: sql_mix(
        lead, o, accounts=a, freq="week", by=["employee_band", "department"]
    ),
    lambda o, lead, a: sql_mix(
        lead, o, accounts=a, freq=None, by=["amount_band", "region", "title"]
    ),
    lambda o, lead, a: origin_comparison(lead, o, as_of=AS_OF),
]
TABLES = (OPPS, LEADS, ACCOUNTS)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("call", CALLS)
def test_polars_eager_and_lazy_agree_with_pandas(call: Any, lazy: bool) -> None:
    expected = call(*TABLES)
    frames = [pl.from_pandas(f) for f in TABLES]
    got = call(*[f.lazy() for f in frames]) if lazy else call(*frames)
    pd.testing.assert_frame_equal(collected(got, lazy=lazy), expected, check_dtype=False)


def test_shuffled_input_and_no_mutation() -> None:
    copies = [f.sample(frac=1, random_state=3) for f in TABLES]
    snapshot = [f.copy(deep=True) for f in copies]
    for call in CALLS:
        pd.testing.assert_frame_equal(call(*copies), call(*TABLES))
    for before, after in zip(snapshot, copies, strict=True):
        pd.testing.assert_frame_equal(before, after)


def test_report_section_tables() -> None:
    ds = small_sample()
    section = build_section("mix", ds, date(2025, 10, 15))
    assert section.key == "mix"
    share = section.tables["share by month"]
    assert len(share) <= 12
    assert (share["inbound_count"] + share["outbound_count"] <= share["sql_count"]).all()
    assert set(section.tables["origin comparison"]["origin"]) >= {"inbound", "outbound"}


# ----------------------------------------------------------------- properties


@st.composite
def mixes(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_leads = draw(st.integers(1, 5))
    leads = pd.DataFrame(
        {
            "lead_id": text([f"L{i}" for i in range(n_leads)]),
            "origin": text(
                [draw(st.sampled_from(["inbound", "outbound"])) for _ in range(n_leads)]
            ),
            "department": text([draw(st.sampled_from(["it", "sales", None]))
                                for _ in range(n_leads)]),
        }
    )  # fmt: skip
    n = draw(st.integers(0, 20))
    start = datetime(2025, 1, 1)
    opps = pd.DataFrame(
        {
            "opportunity_id": text([f"O{i:02d}" for i in range(n)]),
            "lead_id": text([draw(st.sampled_from([None, *leads["lead_id"]])) for _ in range(n)]),
            "origin": text([draw(st.sampled_from([None, None, "inbound", "outbound"]))
                            for _ in range(n)]),
            "created_at": ts([start + timedelta(hours=draw(st.integers(0, 24 * 120)))
                              for _ in range(n)]),
        }
    )  # fmt: skip
    return opps, leads


# 120 examples keep the file under 30 s (each call builds its query in ~50 ms).
@settings(max_examples=120, deadline=None)
@given(mixes(), st.sampled_from(["month", "week", None]))
def test_mix_properties(data: tuple[pd.DataFrame, pd.DataFrame], freq: Any) -> None:
    opps, leads = data
    out = sql_mix(leads, opps, freq=freq, by="department")
    # every SQL is counted once, in exactly one origin row
    assert out["numerator"].sum() == len(opps)
    keys = ["department"] if freq is None else ["period", "department"]
    for _, group in out.groupby(keys, dropna=False):
        assert group["rate"].sum() == pytest.approx(1.0)
        assert group["numerator"].sum() == group["denominator"].iloc[0]
        assert {"inbound", "outbound"} <= set(group["origin"])
    lazy = sql_mix(pl.from_pandas(leads).lazy(), pl.from_pandas(opps).lazy(), freq=freq,
                   by="department")  # fmt: skip
    pd.testing.assert_frame_equal(nw.from_native(lazy).collect().to_pandas(), out,
                                  check_dtype=False)  # fmt: skip
