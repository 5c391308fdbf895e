"""Conversion curves: hand-computed Kaplan-Meier and Aalen-Johansen values, an
independent product-limit loop, edge rules and properties."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime, timedelta
from statistics import NormalDist
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipelinekit as pk
from pipelinekit import ConfigError
from pipelinekit.metrics.curves import conversion_curve, conversion_curve_summary

from ..strategies import datasets

Z = NormalDist().inv_cdf(0.975)


def ts(*values: str | None) -> pd.Series:
    parsed: Any = pd.to_datetime(list(values), format="ISO8601")  # type: ignore[arg-type]
    return pd.Series(parsed, dtype="datetime64[us]")


def leads_frame(rows: list[tuple[str, str]], **extra: list[Any]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "lead_id": pd.Series([r[0] for r in rows], dtype="str"),
            "created_at": ts(*[r[1] for r in rows]),
        }
    )
    for name, values in extra.items():
        frame[name] = values
    return frame


def opps_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """(opportunity_id, lead_id, created_at, closed_at, is_won, validated_at)."""
    padded = [(*r, *(None,) * (6 - len(r))) for r in rows]
    return pd.DataFrame(
        {
            "opportunity_id": pd.Series([r[0] for r in padded], dtype="str"),
            "lead_id": pd.Series([r[1] for r in padded], dtype="str"),
            "created_at": ts(*[r[2] for r in padded]),
            "closed_at": ts(*[r[3] for r in padded]),
            "is_won": pd.array([r[4] for r in padded], dtype="boolean"),
            "validated_at": ts(*[r[5] for r in padded]),
        }
    )


def column(frame: pd.DataFrame, name: str) -> list[Any]:
    return [None if pd.isna(v) else v for v in frame[name].tolist()]


# ------------------------------------------------------------------ Kaplan-Meier


def km_dataset() -> tuple[pd.DataFrame, pd.DataFrame]:
    leads = leads_frame(
        [
            ("L1", "2025-04-01 00:00"),
            ("L2", "2025-04-01 00:00"),
            ("L3", "2025-04-01 00:00"),
            ("L4", "2025-04-01 00:00"),
            ("L5", "2025-04-01 00:00"),
            ("L6", "2025-04-05 00:00"),
        ]
    )
    opps = opps_frame(
        [
            ("O1", "L1", "2025-04-01 10:00"),  # day 0
            ("O2", "L2", "2025-04-03 09:00"),  # day 2
            ("O3", "L3", "2025-04-03 23:00"),  # day 2: a tie with O2
            ("O4", "L4", "2025-04-06 00:00"),  # day 5
            ("O5", "L4", "2025-04-02 00:00"),  # day 1: L4's earliest opportunity wins
        ]
    )
    return leads, opps


def test_kaplan_meier_by_hand_with_a_tie_and_censoring() -> None:
    leads, opps = km_dataset()
    # drop O5 for the first check: L4 converts on day 5
    curve = conversion_curve(
        leads, opps[opps["opportunity_id"] != "O5"], as_of="2025-04-10", freq=None, horizon=11
    )
    # C = 2025-04-11 00:00: L5 is censored on day 10, L6 (created 04-05) on day 6.
    # day 0: n=6, d=1 -> S=5/6;   day 2: n=5, d=2 -> S=5/6*3/5=1/2
    # day 5: n=3 (L4, L5, L6), d=1 -> S=1/2*2/3=1/3; days 6-10: no event
    # day 6: n=2, L6 censored; days 7-10: n=1 (L5), censored on 10; day 11: n=0 -> null
    assert column(curve, "at_risk_count") == [6, 5, 5, 3, 3, 3, 2, 1, 1, 1, 1, 0]
    assert column(curve, "event_count") == [1, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert column(curve, "censored_count") == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0]
    expected = [1 / 6, 1 / 6, 1 / 2, 1 / 2, 1 / 2, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3]
    assert column(curve, "rate")[:11] == pytest.approx(expected, rel=1e-12)
    assert column(curve, "rate")[11] is None  # nobody at risk: never carried forward
    # Greenwood on day 2: 1/(6*5) + 2/(5*3) = 1/6; log-log: se = sqrt(1/6) / |ln 1/2|
    se = math.sqrt(1 / 6) / math.log(2)
    low = 1 - 0.5 ** math.exp(-Z * se)
    high = 1 - 0.5 ** math.exp(Z * se)
    assert curve.loc[2, "ci_low"] == pytest.approx(low, rel=1e-12)
    assert curve.loc[2, "ci_high"] == pytest.approx(high, rel=1e-12)
    # day 0: no variance transform issue (S = 5/6); day 0 band contains the value
    assert curve.loc[0, "ci_low"] < 1 / 6 < curve.loc[0, "ci_high"]


def test_summary_median_and_its_interval() -> None:
    leads, opps = km_dataset()
    opps = opps[opps["opportunity_id"] != "O5"]
    summary = conversion_curve_summary(leads, opps, as_of="2025-04-10", freq=None, horizon=11)
    row = summary.iloc[0]
    # F reaches exactly 1/2 on day 2 (5/6 * 3/5): the median, despite floating point
    assert row["median_days"] == 2
    assert row["lead_count"] == 6
    assert (row["event_count"], row["censored_count"]) == (4, 2)
    assert pd.isna(row["rate"])  # nobody at risk on day 11
    # the interval of the median: first day whose band reaches 1/2 from above / below
    curve = conversion_curve(leads, opps, as_of="2025-04-10", freq=None, horizon=11)
    high_ok = [d for d, v in zip(curve["day"], curve["ci_high"], strict=True) if v >= 0.5]
    low_ok = [d for d, v in zip(curve["day"], curve["ci_low"], strict=True) if v >= 0.5]
    assert row["median_low_days"] == min(high_ok)
    assert (pd.isna(row["median_high_days"]) and not low_ok) or row["median_high_days"] == min(
        low_ok
    )
    # converted leads' median: F(horizon) is null here, so it is null too
    assert pd.isna(row["converted_median_days"])


def product_limit(exits: list[tuple[int, bool]], horizon: int) -> list[float | None]:
    """Plain-Python Kaplan-Meier: (day, converted) per lead -> F(0..horizon)."""
    out: list[float | None] = []
    survival = 1.0
    for day in range(horizon + 1):
        at_risk = sum(1 for d, _ in exits if d >= day)
        events = sum(1 for d, hit in exits if d == day and hit)
        if at_risk == 0:
            out.append(1.0 - survival if survival == 0.0 else None)
            continue
        survival *= 1.0 - events / at_risk
        out.append(1.0 - survival)
    return out


def reference_exits(
    leads: pd.DataFrame, opps: pd.DataFrame, as_of: date
) -> dict[str, list[tuple[int, bool]]]:
    """Per cohort month ('all' too): (exit day, converted) of every lead, in Python."""
    cutoff = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    first: dict[str, datetime] = {}
    for lead, created in zip(opps["lead_id"], opps["created_at"], strict=True):
        if pd.isna(lead) or created.to_pydatetime() >= cutoff:
            continue
        when = created.to_pydatetime()
        first[lead] = min(first.get(lead, when), when)
    out: dict[str, list[tuple[int, bool]]] = {"all": []}
    for lead, created in zip(leads["lead_id"], leads["created_at"], strict=True):
        born = created.to_pydatetime()
        if born >= cutoff:
            continue
        sql = first.get(lead)
        if sql is not None and sql < born:
            continue  # excluded: SQL before the lead
        end, hit = (sql, True) if sql is not None else (cutoff, False)
        day = (end - born) // timedelta(days=1)
        out.setdefault(born.strftime("%Y-%m"), []).append((day, hit))
        out["all"].append((day, hit))
    return out


def test_kaplan_meier_matches_a_plain_python_product_limit_loop() -> None:
    ds = pk.sample_dataset()
    leads, opps = ds.leads, ds.opportunities
    for as_of in (date(2025, 6, 30), date(2025, 12, 31)):
        curve = conversion_curve(leads, opps, as_of=as_of, horizon=60)
        exits = reference_exits(leads, opps, as_of)
        for cohort, rows in exits.items():
            if cohort == "all":
                part = curve[curve["period"].isna()]
            else:
                part = curve[curve["period"] == pd.Timestamp(cohort + "-01")]
            want = product_limit(rows, 60)
            got = column(part, "rate")
            assert len(got) == len(want), cohort
            for g, w in zip(got, want, strict=True):
                assert (g is None) == (w is None), (cohort, got, want)
                if w is not None:
                    assert g == pytest.approx(w, rel=1e-10, abs=1e-12), cohort


def test_end_value_equals_the_plain_rate_when_every_lead_is_past_the_horizon() -> None:
    ds = pk.sample_dataset()
    horizon = 90
    # the data ends on 2025-12-31: a year later every lead has more than 91 days
    as_of = date(2026, 12, 31)
    summary = conversion_curve_summary(
        ds.leads, ds.opportunities, as_of=as_of, freq=None, horizon=horizon
    )
    first = ds.opportunities.groupby("lead_id")["created_at"].min()
    created = ds.leads.set_index("lead_id")["created_at"]
    elapsed = first.reindex(created.index) - created
    converted = ((elapsed >= pd.Timedelta(0)) & (elapsed < pd.Timedelta(days=horizon + 1))).sum()
    excluded = (elapsed < pd.Timedelta(0)).sum()
    plain = converted / (len(created) - excluded)
    assert summary.loc[0, "censored_count"] == 0
    assert summary.loc[0, "rate"] == pytest.approx(plain, rel=1e-12)


# --------------------------------------------------------------- cohorts and edges


def test_censoring_exactly_at_a_cohort_boundary() -> None:
    leads = leads_frame(
        [
            ("L1", "2025-03-01 00:00"),
            ("L2", "2025-03-31 23:59:59"),  # one second before the cut-off
            ("L3", "2025-04-01 00:00"),  # at the cut-off: not a lead yet
        ]
    )
    opps = opps_frame([("O1", "L1", "2025-03-02 12:00"), ("O3", "L3", "2025-04-01 01:00")])
    curve = conversion_curve(leads, opps, as_of="2025-03-31", horizon=2)
    assert set(curve["period"].dropna()) == {pd.Timestamp("2025-03-01")}
    march = curve[curve["period"] == pd.Timestamp("2025-03-01")]
    # L2 is censored on day 0 (1 second of follow-up) but at risk on day 0; L1 is the
    # only lead left on day 1 and converts: survival reaches 0, so day 2 (nobody at
    # risk) keeps the final value instead of being null
    assert column(march, "at_risk_count") == [2, 1, 0]
    assert column(march, "censored_count") == [1, 0, 0]
    assert column(march, "event_count") == [0, 1, 0]
    assert column(march, "rate") == pytest.approx([0.0, 1.0, 1.0])


def test_a_cohort_with_no_leads_and_one_with_only_excluded_leads() -> None:
    leads = leads_frame(
        [
            ("L1", "2025-01-10 09:00"),
            ("L2", "2025-01-20 09:00"),
            ("L3", "2025-03-05 09:00"),  # no February leads at all
            ("L4", "2025-04-02 09:00"),  # its SQL predates it: excluded
        ]
    )
    opps = opps_frame(
        [
            ("O1", "L1", "2025-01-11 08:00"),  # day 0 (23 hours)
            ("O3", "L3", "2025-03-07 10:00"),  # day 2
            ("O4", "L4", "2025-04-01 09:00"),
        ]
    )
    summary = conversion_curve_summary(leads, opps, as_of="2025-06-30", horizon=5)
    periods = [None if pd.isna(p) else p.strftime("%Y-%m") for p in summary["period"]]
    assert periods == ["2025-01", "2025-03", "2025-04", None]
    april = summary.iloc[2]
    assert (april["lead_count"], april["excluded_negative_count"]) == (0, 1)
    assert pd.isna(april["rate"])
    everyone = summary.iloc[3]
    # all leads: L1 (day 0), L2 (censored far beyond), L3 (day 2); L4 excluded
    assert (everyone["lead_count"], everyone["excluded_negative_count"]) == (3, 1)
    assert everyone["rate"] == pytest.approx(2 / 3)
    assert everyone["median_days"] == 2
    # the all-leads curve is the pooled curve: 1/3 on day 0, 2/3 from day 2
    curve = conversion_curve(leads, opps, as_of="2025-06-30", horizon=5)
    pooled = curve[curve["period"].isna()]
    assert column(pooled, "rate") == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3])
    assert pooled["rate"].tolist() == pytest.approx(
        conversion_curve(leads, opps, as_of="2025-06-30", horizon=5, freq=None)["rate"].tolist()
    )


@pytest.mark.parametrize(
    ("created", "converted", "berlin", "tokyo"),
    [
        # clocks go forward on 2025-03-30: noon to noon is 23 hours of instants
        ("2025-03-29 12:00", "2025-03-30 12:00", [1, 0], [0, 1]),
        # clocks go back on 2025-10-26: 23:30 of wall clock is 24.5 hours
        ("2025-10-25 12:00", "2025-10-26 11:30", [0, 1], [1, 0]),
    ],
)
def test_day_index_is_measured_on_instants_across_a_dst_change(
    created: str, converted: str, berlin: list[int], tokyo: list[int]
) -> None:
    leads = leads_frame([("L1", created)])
    opps = opps_frame([("O1", "L1", converted)])
    kw: dict[str, Any] = {"as_of": "2025-12-31", "freq": None, "horizon": 1}
    curve = conversion_curve(leads, opps, tz="Europe/Berlin", **kw)
    assert column(curve, "event_count") == berlin
    assert column(conversion_curve(leads, opps, **kw), "event_count") == tokyo  # no DST


def test_valid_and_won_events_and_the_cut_off() -> None:
    leads = leads_frame([("L1", "2025-04-01"), ("L2", "2025-04-01"), ("L3", "2025-04-01")])
    opps = opps_frame(
        [
            ("O1", "L1", "2025-04-02", "2025-04-04", True, "2025-04-03"),
            ("O2", "L2", "2025-04-02", "2025-04-12", True, "2025-04-11"),  # after C
            ("O3", "L3", "2025-04-02", "2025-04-05", False, None),
        ]
    )
    valid = conversion_curve(leads, opps, as_of="2025-04-10", stage="valid", freq=None, horizon=9)
    assert column(valid, "event_count") == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    won = conversion_curve(leads, opps, as_of="2025-04-10", stage="won", freq=None, horizon=10)
    assert column(won, "event_count")[3] == 1  # L1 won on day 3; L2's win is unobserved
    # C = 04-11 00:00: L2 (win after C) and L3 (lost: no competing event asked for) are
    # censored on day 10
    assert column(won, "censored_count")[10] == 2
    assert won["rate"].iloc[-1] == pytest.approx(1 / 3)


# ------------------------------------------------------------- Aalen-Johansen


def competing_dataset() -> tuple[pd.DataFrame, pd.DataFrame]:
    leads = leads_frame([(f"L{i}", "2025-04-01 00:00") for i in range(1, 6)])
    opps = opps_frame(
        [
            ("O1", "L1", "2025-04-02", "2025-04-04 10:00", True),  # won on day 3
            ("O2", "L2", "2025-04-02", "2025-04-04 15:00", False),  # lost on day 3: a tie
            ("O3", "L3", "2025-04-02", "2025-04-06 09:00", True),  # won on day 5
            ("O4", "L4", "2025-04-02", None, None),  # open: censored
            ("O5", "L5", "2025-04-02", "2025-04-03", False),  # lost on day 2 ...
            ("O6", "L5", "2025-04-03", None, None),  # ... but has an open deal: censored
        ]
    )
    return leads, opps


def aalen_johansen(rows: list[tuple[int, int]], horizon: int) -> tuple[list[float], list[float]]:
    """Plain Python: (day, kind 0 censored / 1 event / 2 competing) -> F1 and its
    delta-method variance, written from the double sum (not the running sums)."""
    f: list[float] = []
    s_prev: list[float] = []
    d_all: list[int] = []
    d_one: list[int] = []
    n_risk: list[int] = []
    survival, cif = 1.0, 0.0
    for day in range(horizon + 1):
        n = sum(1 for d, _ in rows if d >= day)
        e1 = sum(1 for d, k in rows if d == day and k == 1)
        e2 = sum(1 for d, k in rows if d == day and k == 2)
        s_prev.append(survival)
        if n:
            cif += survival * e1 / n
            survival *= 1 - (e1 + e2) / n
        f.append(cif)
        d_all.append(e1 + e2)
        d_one.append(e1)
        n_risk.append(n)
    variance = []
    for t in range(horizon + 1):
        total = 0.0
        for j in range(t + 1):
            n, d, e = n_risk[j], d_all[j], d_one[j]
            if n == 0:
                continue
            if n > d:
                total += (f[t] - f[j]) ** 2 * d / (n * (n - d))
            total += s_prev[j] ** 2 * e * (n - e) / n**3
            total -= 2 * (f[t] - f[j]) * s_prev[j] * e / n**2
        variance.append(total)
    return f, variance


def test_aalen_johansen_by_hand_with_a_competing_event_on_the_event_day() -> None:
    leads, opps = competing_dataset()
    curve = conversion_curve(
        leads, opps, as_of="2025-04-20", stage="won", competing="lost", freq=None, horizon=6
    )
    # day 3: n=5, one win and one loss -> F1 = 1 * 1/5 = 0.2, S = 3/5
    # day 5: n=3 (L3, L4, L5), one win -> F1 = 0.2 + 3/5 * 1/3 = 0.4
    assert column(curve, "event_count") == [0, 0, 0, 1, 0, 1, 0]
    assert column(curve, "competing_count") == [0, 0, 0, 1, 0, 0, 0]
    assert column(curve, "rate") == pytest.approx([0, 0, 0, 0.2, 0.2, 0.4, 0.4], abs=1e-15)
    # without competing=, a lost lead stays at risk until it is censored at the cut-off:
    # day 3: S = 4/5; day 5: n = 4, S = 4/5 * 3/4 -> F = 0.4, and no competing count
    km = conversion_curve(leads, opps, as_of="2025-04-20", stage="won", freq=None, horizon=6)
    assert km["rate"].iloc[5] == pytest.approx(1 - 4 / 5 * 3 / 4)
    assert km["competing_count"].sum() == 0
    assert km["at_risk_count"].iloc[5] == 4
    # the band from the delta-method variance on the log-log scale
    rows = [(3, 1), (3, 2), (5, 1), (19, 0), (19, 0)]  # L4, L5 censored on day 19
    f, variance = aalen_johansen(rows, 6)
    for day in (3, 5):
        se = math.sqrt(variance[day]) / (f[day] * abs(math.log(f[day])))
        low = f[day] ** math.exp(Z * se)
        high = f[day] ** math.exp(-Z * se)
        assert curve.loc[day, "ci_low"] == pytest.approx(low, rel=1e-10)
        assert curve.loc[day, "ci_high"] == pytest.approx(high, rel=1e-10)


def test_aalen_johansen_without_competing_events_is_kaplan_meier() -> None:
    ds = pk.sample_dataset()
    opps = ds.opportunities.copy()
    opps["is_won"] = opps["is_won"].fillna(False) | opps["closed_at"].notna()  # no losses
    kw: dict[str, Any] = {"as_of": "2025-12-31", "stage": "won", "freq": None, "horizon": 120}
    aj = conversion_curve(ds.leads, opps, competing="lost", **kw)
    km = conversion_curve(ds.leads, opps, **kw)
    assert aj["competing_count"].sum() == 0
    assert aj["rate"].tolist() == pytest.approx(km["rate"].tolist(), rel=1e-9, abs=1e-12)
    # the delta-method variance reduces to Greenwood's: same band up to the transform
    # (AJ: log-log of F, KM: log-log of S), so compare through the variance itself
    rows = []
    events = aj["event_count"].tolist()
    censored = aj["censored_count"].tolist()
    for day, (e, c) in enumerate(zip(events, censored, strict=True)):
        rows += [(day, 1)] * e + [(day, 0)] * c
    at_risk = aj["at_risk_count"].tolist()
    beyond = at_risk[-1] - events[-1] - censored[-1]
    rows += [(121, 0)] * beyond
    f, variance = aalen_johansen(rows, 120)
    greenwood = 0.0
    for day in range(121):
        n, d = at_risk[day], events[day]
        if n > d:
            greenwood += d / (n * (n - d))
        s = 1 - f[day]
        assert variance[day] == pytest.approx(s * s * greenwood, rel=1e-9, abs=1e-15)


# ------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stage": "touched"}, "stage must be one of"),
        ({"competing": "lost"}, "competing='lost' needs stage='won'"),
        ({"stage": "won", "competing": "disqualified"}, "competing must be one of"),
        ({"horizon": -1}, "horizon must be an integer >= 0"),
        ({"by": "rate"}, "output column name"),
        ({"freq": "fortnight"}, "freq must be one of"),
        ({"confidence": 1.0}, "confidence must be strictly between"),
    ],
)
def test_bad_parameters_are_config_errors(kwargs: dict[str, Any], message: str) -> None:
    leads, opps = km_dataset()
    with pytest.raises(ConfigError, match=message):
        conversion_curve(leads, opps, as_of="2025-04-10", **kwargs)


# -------------------------------------------------------------------- properties

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
AS_OF = st.dates(date(2025, 1, 15), date(2025, 8, 31))


@PROPERTY
@given(
    datasets(max_leads=8, max_opportunities=6),
    AS_OF,
    st.sampled_from([("sql", None), ("valid", None), ("won", None), ("won", "lost")]),
)
def test_curves_are_non_decreasing_and_within_0_1(
    tables: dict[str, pd.DataFrame], as_of: date, kind: tuple[str, str | None]
) -> None:
    stage, competing = kind
    curve = conversion_curve(
        tables["leads"],
        tables["opportunities"],
        as_of=as_of,
        stage=stage,  # type: ignore[arg-type]
        competing=competing,  # type: ignore[arg-type]
        by="origin",
        horizon=30,
    )
    for _, part in curve.groupby(["origin", "period"], dropna=False):
        values = part["rate"].dropna().tolist()
        assert all(-1e-12 <= v <= 1 + 1e-12 for v in values)
        assert all(b >= a - 1e-12 for a, b in itertools.pairwise(values))
        # known values come first: once null (nobody at risk) it stays null
        known = part["rate"].notna().tolist()
        assert known == sorted(known, reverse=True)
        lows, highs = part["ci_low"], part["ci_high"]
        both = lows.notna() & highs.notna()
        assert (lows[both] <= part["rate"][both] + 1e-12).all()
        assert (highs[both] >= part["rate"][both] - 1e-12).all()


@PROPERTY
@given(
    datasets(max_leads=8, max_opportunities=6),
    AS_OF,
    st.integers(1, 200),
    st.sampled_from(["sql", "valid", "won"]),
)
def test_a_later_as_of_never_lowers_a_mature_cohort(
    tables: dict[str, pd.DataFrame], as_of: date, extra_days: int, stage: str
) -> None:
    horizon = 10
    kw: dict[str, Any] = {"stage": stage, "horizon": horizon}
    early = conversion_curve(tables["leads"], tables["opportunities"], as_of=as_of, **kw)
    later = conversion_curve(
        tables["leads"], tables["opportunities"], as_of=as_of + timedelta(days=extra_days), **kw
    )
    cutoff = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    created = tables["leads"]["created_at"]
    for period, part in early[early["period"].notna()].groupby("period"):
        month = created[(created >= period) & (created < period + pd.offsets.MonthBegin(1))]
        if month.empty or (cutoff - month.max()) < pd.Timedelta(days=horizon + 1):
            continue  # not mature: some lead has not had horizon + 1 days yet
        again = later[later["period"] == period]
        for a, b in zip(part["rate"], again["rate"], strict=True):
            if not pd.isna(a):
                assert b >= a - 1e-12
