"""Hand-written idiomatic pandas, polars and DuckDB SQL for the benchmarked KPIs.

Each computes the same result as the pipelinekit function (same rows, same numbers;
the benchmark asserts it), written the way an analyst would write it directly in
that library, without pipelinekit:

- ``journey``: one row per lead with first touch / connect, SQL, validation and win
  times, won amount and activity counts (``pipelinekit.journey``);
- ``funnel``: lead -> touched -> connected -> sql -> valid -> won by campaign x
  month, inferred mode, cohort view, with Wilson intervals and the median / p75 /
  p90 days between stages (``pipelinekit.funnel(journey, by="campaign_id",
  freq="month")``, input: the journey);
- ``cadence``: 5C2M compliance per lead (``pipelinekit.cadence_compliance``);
- ``allocation``: SQLs per FS rep x month against capacity
  (``pipelinekit.sql_allocation``).

Timestamps are naive local wall-clock time (the canonical Parquet files).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from statistics import NormalDist
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl

__all__ = ["IMPLEMENTATIONS"]

Z = NormalDist().inv_cdf(0.975)
BANDS = {"1-30": 60.0, "31-299": 45.0, "300-999": 40.0, "1000+": 30.0}
STAGES = ("lead", "touched", "connected", "sql", "valid", "won")
TIMES = ("created_at", "first_touch_at", "first_connect_at", "sql_at", "validated_at", "won_at")
QUANTILES = {"median_days": 0.5, "p75_days": 0.75, "p90_days": 0.9}
US_PER_DAY = 86_400_000_000
NO_KEY = "\x00none"


def cutoff_of(as_of: date) -> datetime:
    return datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)


# ======================================================================== pandas


def _wilson_pandas(num: pd.Series, den: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    n = den.astype("float64").where(den > 0)
    p = num.astype("float64") / n
    z2 = Z * Z
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z * np.sqrt((p * (1 - p) / n + z2 / (4 * n * n)).clip(lower=0)) / (1 + z2 / n)
    low = np.minimum((center - half).clip(lower=0.0), p)
    high = np.maximum((center + half).clip(upper=1.0), p)
    return p, low, high


def journey_pandas(t: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    cut = cutoff_of(as_of)
    leads = t["leads"][t["leads"]["created_at"] < cut]
    a = t["activities"]
    a = a[(a["occurred_at"] < cut) & a["lead_id"].notna()]
    out = a["direction"] == "outbound"
    ch, oc = a["channel"], a["outcome"]
    call, email, meeting = out & (ch == "call"), out & (ch == "email"), out & (ch == "meeting")
    touch = call | email | meeting
    conn = (
        ((ch == "call") & (oc == "connected"))
        | ((ch == "email") & (oc == "replied"))
        | ((ch == "meeting") & (oc == "held"))
    )
    acts = (
        pd.DataFrame(
            {
                "lead_id": a["lead_id"],
                "first_touch_at": a["occurred_at"].where(touch),
                "first_connect_at": a["occurred_at"].where(conn),
                "touch_count": touch,
                "call_count": call,
                "email_count": email,
                "meeting_count": meeting,
                "connect_count": conn,
            }
        )
        .groupby("lead_id", sort=False)
        .agg(
            first_touch_at=("first_touch_at", "min"),
            first_connect_at=("first_connect_at", "min"),
            touch_count=("touch_count", "sum"),
            call_count=("call_count", "sum"),
            email_count=("email_count", "sum"),
            meeting_count=("meeting_count", "sum"),
            connect_count=("connect_count", "sum"),
        )
    )
    o = t["opportunities"]
    o = o[(o["created_at"] < cut) & o["lead_id"].notna()]
    closed = o["closed_at"].where(o["closed_at"] < cut)
    won = o["is_won"].fillna(False).astype(bool) & closed.notna()
    opps = (
        pd.DataFrame(
            {
                "lead_id": o["lead_id"],
                "sql_at": o["created_at"],
                "validated_at": o["validated_at"].where(o["validated_at"] < cut),
                "won_at": closed.where(won),
                "won_amount": o["amount"].fillna(0.0).where(won, 0.0),
            }
        )
        .groupby("lead_id", sort=False)
        .agg(
            sql_at=("sql_at", "min"),
            validated_at=("validated_at", "min"),
            won_at=("won_at", "min"),
            won_amount=("won_amount", "sum"),
            opportunity_count=("sql_at", "size"),
        )
    )
    j = leads.merge(acts, on="lead_id", how="left").merge(opps, on="lead_id", how="left")
    counts = ["opportunity_count", "touch_count", "call_count", "email_count"]
    counts += ["meeting_count", "connect_count"]
    j[counts] = j[counts].fillna(0).astype("int64")
    j["won_amount"] = j["won_amount"].fillna(0.0)
    order = [*leads.columns, "first_touch_at", "first_connect_at", "sql_at", "validated_at"]
    order += ["won_at", "won_amount", *counts]
    return j[order].sort_values("lead_id", ignore_index=True)


def funnel_pandas(t: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    cut = cutoff_of(as_of)
    journey = t["journey"]
    t = [journey[c] for c in TIMES]
    m = [None] * 6
    m[5] = t[5]
    for k in range(4, 0, -1):
        m[k] = t[k].where(t[k].notna() & ~(t[k] > m[k + 1]), m[k + 1])
    e0 = t[0].fillna(m[1])
    keep = e0 < cut
    e = [e0[keep]]
    for k in range(1, 6):
        ek = m[k][keep].where(~(m[k][keep] < e[0]), e[0])
        e.append(ek.where(ek < cut))
    # null campaigns are a group of their own: a sentinel key, restored at the end
    base = pd.DataFrame({"campaign_id": journey["campaign_id"][keep].fillna(NO_KEY)})
    base["period"] = e[0].dt.to_period("M").dt.start_time.astype("datetime64[us]")
    frames = []
    for k in range(6):
        reached = e[k].notna()
        prev = e[max(k - 1, 0)].notna()
        days = (e[k] - e[max(k - 1, 0)]).dt.total_seconds() / 86400.0 if k else np.nan
        frames.append(base.assign(stage_index=k, reached=reached, prev=prev, days=days, one=1))
    long = pd.concat(frames, ignore_index=True)
    keys = ["campaign_id", "period", "stage_index"]
    grouped = long.groupby(keys, sort=False)
    table = grouped.agg(
        count=("reached", "sum"),
        step_denominator=("prev", "sum"),
        overall_denominator=("one", "sum"),
    )
    converted = long[long["reached"] & (long["stage_index"] > 0)]
    quant = converted.groupby(keys, sort=False)["days"].quantile(list(QUANTILES.values()))
    quant = quant.unstack()
    quant.columns = list(QUANTILES)
    table = table.join(quant, how="left").reset_index()
    table["stage"] = table["stage_index"].map(dict(enumerate(STAGES)))
    table["step_numerator"] = table["count"]
    table["overall_numerator"] = table["count"]
    for prefix in ("step_", "overall_"):
        rate, low, high = _wilson_pandas(table[f"{prefix}numerator"], table[f"{prefix}denominator"])
        table[f"{prefix}rate"], table[f"{prefix}ci_low"], table[f"{prefix}ci_high"] = (
            rate,
            low,
            high,
        )
    table["mature"] = True
    table["campaign_id"] = table["campaign_id"].replace(NO_KEY, None)
    table = table.sort_values(
        ["campaign_id", "period", "stage_index"], na_position="last", ignore_index=True
    )
    return table[FUNNEL_COLUMNS]


FUNNEL_COLUMNS = [
    "campaign_id",
    "period",
    "stage",
    "stage_index",
    "count",
    "step_numerator",
    "step_denominator",
    "step_rate",
    "step_ci_low",
    "step_ci_high",
    "overall_numerator",
    "overall_denominator",
    "overall_rate",
    "overall_ci_low",
    "overall_ci_high",
    *QUANTILES,
    "mature",
]

CADENCE_COLUMNS = [
    "lead_id",
    "owner_id",
    "origin",
    "action_status",
    "created_at",
    "window_end",
    "calls",
    "mails",
    "meetings",
    "touches",
    "channels",
    "calls_short",
    "mails_short",
    "meetings_short",
    "touches_short",
    "channels_short",
    "connected_within_window",
    "connected_at",
    "status",
]


def cadence_pandas(t: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    cut = cutoff_of(as_of)
    leads = t["leads"]
    leads = leads.loc[leads["created_at"] < cut, CADENCE_COLUMNS[:5]].copy()
    leads["window_end"] = leads["created_at"] + pd.Timedelta(days=14)
    a = t["activities"]
    a = a.loc[(a["occurred_at"] < cut) & a["lead_id"].notna()]
    a = a.merge(leads[["lead_id", "created_at", "window_end"]], on="lead_id")
    a = a[(a["occurred_at"] >= a["created_at"]) & (a["occurred_at"] < a["window_end"])]
    out = a["direction"] == "outbound"
    ch, oc = a["channel"], a["outcome"]
    conn = (
        ((ch == "call") & (oc == "connected"))
        | ((ch == "email") & (oc == "replied"))
        | ((ch == "meeting") & (oc == "held"))
    )
    flags = pd.DataFrame(
        {
            "lead_id": a["lead_id"],
            "calls": out & (ch == "call"),
            "mails": out & (ch == "email"),
            "meetings": out & (ch == "meeting"),
            "connects": conn,
            "connected_at": a["occurred_at"].where(conn),
        }
    )
    flags["touches"] = flags["calls"] | flags["mails"] | flags["meetings"]
    inside = flags.groupby("lead_id", sort=False).agg(
        calls=("calls", "sum"),
        mails=("mails", "sum"),
        meetings=("meetings", "sum"),
        touches=("touches", "sum"),
        connects=("connects", "sum"),
        connected_at=("connected_at", "min"),
    )
    c = leads.merge(inside, on="lead_id", how="left")
    counts = ["calls", "mails", "meetings", "touches", "connects"]
    c[counts] = c[counts].fillna(0).astype("int64")
    c["channels"] = (c[["calls", "mails", "meetings"]] > 0).sum(axis=1).astype("int64")
    minimum = {"calls": 5, "mails": 2, "meetings": 0, "touches": 0, "channels": 0}
    for name, need in minimum.items():
        c[f"{name}_short"] = (need - c[name]).clip(lower=0).astype("int64")
    short = c[[f"{n}_short" for n in minimum]].sum(axis=1)
    connected = c["connects"] > 0
    c["connected_within_window"] = connected.astype("int64")
    excluded = c["action_status"] == "no_action_needed"
    c["status"] = np.select(
        [excluded, connected, c["window_end"] > cut, short == 0],
        [c["action_status"], "connected", "in_progress", "compliant"],
        "short",
    )
    c["status"] = c["status"].astype("str")
    return c.sort_values(["created_at", "lead_id"], ignore_index=True)[CADENCE_COLUMNS]


def _month_rows(first: date, as_of: date) -> list[tuple[datetime, float, bool]]:
    rows = []
    start = first.replace(day=1)
    end = as_of.replace(day=1)
    while start <= end:
        nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        days = calendar.monthrange(start.year, start.month)[1]
        partial = as_of + timedelta(days=1) < nxt
        months = (as_of.day / days) if partial else 1.0
        rows.append((datetime(start.year, start.month, 1), months, partial))
        start = nxt
    return rows


ALLOCATION_COLUMNS = [
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


def allocation_pandas(t: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    cut = cutoff_of(as_of)
    o = t["opportunities"]
    sqls = o.loc[(o["created_at"] < cut) & o["owner_id"].notna(), ["owner_id", "created_at"]]
    sqls = pd.DataFrame(
        {
            "rep_id": sqls["owner_id"],
            "period": sqls["created_at"].dt.to_period("M").dt.start_time.astype("datetime64[us]"),
        }
    )
    reps = t["reps"]
    ids = pd.concat([reps.loc[reps["role"] == "field", "rep_id"], sqls["rep_id"]]).unique()
    info = reps.set_index("rep_id")
    band = info["segment"].map(BANDS)
    explicit = info["monthly_sql_capacity"].astype("float64")
    info = pd.DataFrame(
        {
            "segment": info["segment"],
            "monthly_capacity": explicit.fillna(band),
            "capacity_source": np.where(
                explicit.notna(), "rep", np.where(band.notna(), "segment", None)
            ),
        }
    )
    periods = pd.DataFrame(
        _month_rows(sqls["period"].min().date(), as_of), columns=["period", "months", "partial"]
    )
    periods["period"] = periods["period"].astype("datetime64[us]")
    grid = pd.DataFrame({"rep_id": ids}).join(info, on="rep_id").merge(periods, how="cross")
    counts = sqls.groupby(["rep_id", "period"]).size().rename("sql_count")
    grid = grid.join(counts, on=["rep_id", "period"])
    grid["sql_count"] = grid["sql_count"].fillna(0).astype("int64")
    grid["capacity"] = grid["monthly_capacity"] * grid["months"]
    cap = grid["capacity"]
    grid["load"] = (grid["sql_count"] / cap).where(cap > 0)
    grid["status"] = np.select(
        [cap.isna(), grid["sql_count"] > cap, grid["sql_count"] >= cap * 0.9],
        ["unknown", "over", "warning"],
        "ok",
    )
    grid["capacity_source"] = grid["capacity_source"].astype("str")
    grid["status"] = grid["status"].astype("str")
    return grid.sort_values(["period", "rep_id"], ignore_index=True)[ALLOCATION_COLUMNS]


# ======================================================================== polars


def _wilson_polars(prefix: str) -> list[pl.Expr]:
    n = pl.when(pl.col(f"{prefix}denominator") > 0).then(pl.col(f"{prefix}denominator"))
    n = n.cast(pl.Float64)
    p = pl.col(f"{prefix}numerator") / n
    z2 = Z * Z
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z * (p * (1 - p) / n + z2 / (4 * n * n)).clip(lower_bound=0).sqrt() / (1 + z2 / n)
    return [
        p.alias(f"{prefix}rate"),
        pl.min_horizontal((center - half).clip(lower_bound=0.0), p).alias(f"{prefix}ci_low"),
        pl.max_horizontal((center + half).clip(upper_bound=1.0), p).alias(f"{prefix}ci_high"),
    ]


def _connect() -> pl.Expr:
    ch, oc = pl.col("channel"), pl.col("outcome")
    return (
        ((ch == "call") & (oc == "connected"))
        | ((ch == "email") & (oc == "replied"))
        | ((ch == "meeting") & (oc == "held"))
    )


def journey_polars(t: dict[str, pl.DataFrame], as_of: date) -> pl.DataFrame:
    cut = cutoff_of(as_of)
    out = pl.col("direction") == "outbound"
    ch = pl.col("channel")
    touch = out & ch.is_in(["call", "email", "meeting"])
    acts = (
        t["activities"]
        .lazy()
        .filter((pl.col("occurred_at") < cut) & pl.col("lead_id").is_not_null())
        .group_by("lead_id")
        .agg(
            pl.col("occurred_at").filter(touch).min().alias("first_touch_at"),
            pl.col("occurred_at").filter(_connect()).min().alias("first_connect_at"),
            touch.sum().alias("touch_count"),
            (out & (ch == "call")).sum().alias("call_count"),
            (out & (ch == "email")).sum().alias("email_count"),
            (out & (ch == "meeting")).sum().alias("meeting_count"),
            _connect().sum().alias("connect_count"),
        )
    )
    closed = pl.when(pl.col("closed_at") < cut).then(pl.col("closed_at"))
    won = pl.col("is_won").fill_null(False) & closed.is_not_null()
    opps = (
        t["opportunities"]
        .lazy()
        .filter((pl.col("created_at") < cut) & pl.col("lead_id").is_not_null())
        .group_by("lead_id")
        .agg(
            pl.col("created_at").min().alias("sql_at"),
            pl.col("validated_at").filter(pl.col("validated_at") < cut).min(),
            closed.filter(won).min().alias("won_at"),
            pl.col("amount").fill_null(0.0).filter(won).sum().alias("won_amount"),
            pl.len().alias("opportunity_count"),
        )
    )
    counts = ["opportunity_count", "touch_count", "call_count", "email_count"]
    counts += ["meeting_count", "connect_count"]
    leads = t["leads"].lazy().filter(pl.col("created_at") < cut)
    return (
        leads.join(acts, on="lead_id", how="left")
        .join(opps, on="lead_id", how="left")
        .select(
            *t["leads"].columns,
            "first_touch_at",
            "first_connect_at",
            "sql_at",
            "validated_at",
            "won_at",
            pl.col("won_amount").fill_null(0.0),
            *[pl.col(c).fill_null(0).cast(pl.Int64) for c in counts],
        )
        .sort("lead_id")
        .collect()
    )


def funnel_polars(t: dict[str, pl.DataFrame], as_of: date) -> pl.DataFrame:
    cut = cutoff_of(as_of)
    journey = t["journey"]
    m = [pl.col(TIMES[5])]
    for k in range(4, 0, -1):
        m.insert(0, pl.min_horizontal(pl.col(TIMES[k]), m[0]))
    m.insert(0, pl.col(TIMES[0]))
    e0 = pl.coalesce(pl.col(TIMES[0]), m[1])
    wide = (
        journey.lazy()
        .select(
            "campaign_id",
            e0.alias("e0"),
            *[pl.when(m[k] < e0).then(e0).otherwise(m[k]).alias(f"e{k}") for k in range(1, 6)],
        )
        .filter(pl.col("e0") < cut)
        .with_columns(
            pl.col("e0").dt.truncate("1mo").alias("period"),
            *[
                pl.when(pl.col(f"e{k}") < cut).then(pl.col(f"e{k}")).alias(f"e{k}")
                for k in range(1, 6)
            ],
        )
    )

    def stage(k: int) -> pl.LazyFrame:
        days = (
            (pl.col(f"e{k}") - pl.col(f"e{k - 1}")).dt.total_microseconds() / US_PER_DAY
            if k
            else pl.lit(None, pl.Float64)
        )
        return wide.select(
            "campaign_id",
            "period",
            pl.lit(k, pl.Int64).alias("stage_index"),
            pl.col(f"e{k}").is_not_null().alias("reached"),
            pl.col(f"e{max(k - 1, 0)}").is_not_null().alias("prev"),
            days.alias("days"),
        )

    long = pl.concat([stage(k) for k in range(6)])
    days = pl.col("days").filter(pl.col("reached"))
    table = (
        long.group_by("campaign_id", "period", "stage_index")
        .agg(
            pl.col("reached").sum().cast(pl.Int64).alias("count"),
            pl.col("prev").sum().cast(pl.Int64).alias("step_denominator"),
            pl.len().cast(pl.Int64).alias("overall_denominator"),
            *[days.quantile(q, "linear").alias(name) for name, q in QUANTILES.items()],
        )
        .with_columns(
            pl.col("stage_index").replace_strict(dict(enumerate(STAGES))).alias("stage"),
            pl.col("count").alias("step_numerator"),
            pl.col("count").alias("overall_numerator"),
            pl.lit(True).alias("mature"),
        )
        .with_columns(*_wilson_polars("step_"), *_wilson_polars("overall_"))
        .sort("campaign_id", "period", "stage_index", nulls_last=True)
        .select(FUNNEL_COLUMNS)
    )
    return table.collect()


def cadence_polars(t: dict[str, pl.DataFrame], as_of: date) -> pl.DataFrame:
    cut = cutoff_of(as_of)
    leads = (
        t["leads"]
        .lazy()
        .filter(pl.col("created_at") < cut)
        .select(
            *CADENCE_COLUMNS[:5], (pl.col("created_at") + timedelta(days=14)).alias("window_end")
        )
    )
    out = pl.col("direction") == "outbound"
    ch = pl.col("channel")
    inside = (
        t["activities"]
        .lazy()
        .filter((pl.col("occurred_at") < cut) & pl.col("lead_id").is_not_null())
        .join(leads.select("lead_id", "created_at", "window_end"), on="lead_id")
        .filter(
            (pl.col("occurred_at") >= pl.col("created_at"))
            & (pl.col("occurred_at") < pl.col("window_end"))
        )
        .group_by("lead_id")
        .agg(
            (out & (ch == "call")).sum().alias("calls"),
            (out & (ch == "email")).sum().alias("mails"),
            (out & (ch == "meeting")).sum().alias("meetings"),
            (out & ch.is_in(["call", "email", "meeting"])).sum().alias("touches"),
            _connect().sum().alias("connects"),
            pl.col("occurred_at").filter(_connect()).min().alias("connected_at"),
        )
    )
    minimum = {"calls": 5, "mails": 2, "meetings": 0, "touches": 0, "channels": 0}
    counts = ["calls", "mails", "meetings", "touches", "connects"]
    c = (
        leads.join(inside, on="lead_id", how="left")
        .with_columns(pl.col(counts).fill_null(0).cast(pl.Int64))
        .with_columns(
            pl.sum_horizontal(pl.col(["calls", "mails", "meetings"]) > 0)
            .cast(pl.Int64)
            .alias("channels")
        )
        .with_columns(
            *[
                (pl.lit(need) - pl.col(name))
                .clip(lower_bound=0)
                .cast(pl.Int64)
                .alias(f"{name}_short")
                for name, need in minimum.items()
            ]
        )
    )
    short = pl.sum_horizontal([f"{n}_short" for n in minimum])
    status = (
        pl.when(pl.col("action_status") == "no_action_needed")
        .then(pl.col("action_status"))
        .when(pl.col("connects") > 0)
        .then(pl.lit("connected"))
        .when(pl.col("window_end") > cut)
        .then(pl.lit("in_progress"))
        .when(short == 0)
        .then(pl.lit("compliant"))
        .otherwise(pl.lit("short"))
    )
    return (
        c.with_columns(
            (pl.col("connects") > 0).cast(pl.Int64).alias("connected_within_window"),
            status.alias("status"),
        )
        .sort("created_at", "lead_id")
        .select(CADENCE_COLUMNS)
        .collect()
    )


def allocation_polars(t: dict[str, pl.DataFrame], as_of: date) -> pl.DataFrame:
    cut = cutoff_of(as_of)
    sqls = (
        t["opportunities"]
        .lazy()
        .filter((pl.col("created_at") < cut) & pl.col("owner_id").is_not_null())
        .select(
            pl.col("owner_id").alias("rep_id"),
            pl.col("created_at").dt.truncate("1mo").alias("period"),
        )
    )
    counts = sqls.group_by("rep_id", "period").agg(pl.len().cast(pl.Int64).alias("sql_count"))
    first = sqls.select(pl.col("period").min()).collect().item()
    periods = pl.DataFrame(
        _month_rows(first.date(), as_of),
        schema={"period": pl.Datetime("us"), "months": pl.Float64, "partial": pl.Boolean},
        orient="row",
    ).lazy()
    reps = t["reps"].lazy()
    band = pl.col("segment").replace_strict(BANDS, default=None, return_dtype=pl.Float64)
    info = reps.select(
        "rep_id",
        "segment",
        pl.coalesce(pl.col("monthly_sql_capacity").cast(pl.Float64), band).alias(
            "monthly_capacity"
        ),
        pl.when(pl.col("monthly_sql_capacity").is_not_null())
        .then(pl.lit("rep"))
        .when(band.is_not_null())
        .then(pl.lit("segment"))
        .alias("capacity_source"),
    )
    ids = pl.concat(
        [reps.filter(pl.col("role") == "field").select("rep_id"), sqls.select("rep_id")]
    ).unique()
    cap = pl.col("capacity")
    return (
        ids.join(info, on="rep_id", how="left")
        .join(periods, how="cross")
        .join(counts, on=["rep_id", "period"], how="left")
        .with_columns(
            pl.col("sql_count").fill_null(0),
            (pl.col("monthly_capacity") * pl.col("months")).alias("capacity"),
        )
        .with_columns(
            pl.when(cap > 0).then(pl.col("sql_count") / cap).alias("load"),
            pl.when(cap.is_null())
            .then(pl.lit("unknown"))
            .when(pl.col("sql_count") > cap)
            .then(pl.lit("over"))
            .when(pl.col("sql_count") >= cap * 0.9)
            .then(pl.lit("warning"))
            .otherwise(pl.lit("ok"))
            .alias("status"),
        )
        .sort("period", "rep_id")
        .select(ALLOCATION_COLUMNS)
        .collect()
    )


# ======================================================================== DuckDB SQL


def _ts(value: datetime) -> str:
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


def _wilson_sql(prefix: str) -> str:
    n = f"CAST(NULLIF({prefix}denominator, 0) AS DOUBLE)"
    p = f"({prefix}numerator / {n})"
    z2 = Z * Z
    center = f"(({p} + {z2} / (2 * {n})) / (1 + {z2} / {n}))"
    spread = f"greatest({p} * (1 - {p}) / {n} + {z2} / (4 * {n} * {n}), 0)"
    half = f"({Z} * sqrt({spread}) / (1 + {z2} / {n}))"
    return (
        f"{p} AS {prefix}rate, "
        f"least(greatest({center} - {half}, 0.0), {p}) AS {prefix}ci_low, "
        f"greatest(least({center} + {half}, 1.0), {p}) AS {prefix}ci_high"
    )


CONNECT_SQL = (
    "((channel = 'call' AND outcome = 'connected') OR (channel = 'email' AND outcome = 'replied')"
    " OR (channel = 'meeting' AND outcome = 'held'))"
)
TOUCH_SQL = "(direction = 'outbound' AND channel IN ('call', 'email', 'meeting'))"


def journey_sql(con: duckdb.DuckDBPyConnection, as_of: date) -> Any:
    cut = _ts(cutoff_of(as_of))
    return con.sql(
        f"""
        WITH a AS (
            SELECT lead_id,
                min(occurred_at) FILTER (WHERE {TOUCH_SQL}) AS first_touch_at,
                min(occurred_at) FILTER (WHERE {CONNECT_SQL}) AS first_connect_at,
                count(*) FILTER (WHERE {TOUCH_SQL}) AS touch_count,
                count(*) FILTER (WHERE direction = 'outbound' AND channel = 'call') AS call_count,
                count(*) FILTER (WHERE direction = 'outbound' AND channel = 'email') AS email_count,
                count(*) FILTER (WHERE direction = 'outbound' AND channel = 'meeting')
                    AS meeting_count,
                count(*) FILTER (WHERE {CONNECT_SQL}) AS connect_count
            FROM activities
            WHERE occurred_at < {cut} AND lead_id IS NOT NULL
            GROUP BY lead_id
        ), o AS (
            SELECT lead_id,
                min(created_at) AS sql_at,
                min(validated_at) FILTER (WHERE validated_at < {cut}) AS validated_at,
                min(closed_at) FILTER (WHERE is_won AND closed_at < {cut}) AS won_at,
                coalesce(sum(coalesce(amount, 0)) FILTER (WHERE is_won AND closed_at < {cut}), 0)
                    AS won_amount,
                count(*) AS opportunity_count
            FROM opportunities
            WHERE created_at < {cut} AND lead_id IS NOT NULL
            GROUP BY lead_id
        )
        SELECT l.*, a.first_touch_at, a.first_connect_at, o.sql_at, o.validated_at, o.won_at,
            coalesce(o.won_amount, 0.0) AS won_amount,
            coalesce(o.opportunity_count, 0) AS opportunity_count,
            coalesce(a.touch_count, 0) AS touch_count,
            coalesce(a.call_count, 0) AS call_count,
            coalesce(a.email_count, 0) AS email_count,
            coalesce(a.meeting_count, 0) AS meeting_count,
            coalesce(a.connect_count, 0) AS connect_count
        FROM leads l
        LEFT JOIN a USING (lead_id)
        LEFT JOIN o USING (lead_id)
        WHERE l.created_at < {cut}
        ORDER BY l.lead_id
        """
    ).to_arrow_table()


def _reached_sql(k: int, cut: str) -> str:
    """``e_k = max(anchor, m_k)`` kept only before the cut-off (null stays null)."""
    e = f"CASE WHEN m{k} < e0 THEN e0 ELSE m{k} END"
    return f"CASE WHEN {e} < {cut} THEN {e} END AS e{k}"


def funnel_sql(con: duckdb.DuckDBPyConnection, as_of: date) -> Any:
    cut = _ts(cutoff_of(as_of))
    m = ["won_at"]
    for col in reversed(TIMES[1:5]):
        m.insert(0, f"least({col}, {m[0]})")
    e0 = f"coalesce(created_at, {m[0]})"
    parts = " UNION ALL ".join(
        f"SELECT campaign_id, period, {k} AS stage_index, e{k} IS NOT NULL AS reached, "
        f"e{max(k - 1, 0)} IS NOT NULL AS prev, "
        + (
            f"epoch_us(e{k} - e{k - 1}) / {US_PER_DAY}.0 AS days FROM wide"
            if k
            else "CAST(NULL AS DOUBLE) AS days FROM wide"
        )
        for k in range(6)
    )
    quantiles = ", ".join(
        f"quantile_cont(days, {q}) FILTER (WHERE reached) AS {name}"
        for name, q in QUANTILES.items()
    )
    stage = "CASE stage_index " + " ".join(f"WHEN {k} THEN '{s}'" for k, s in enumerate(STAGES))
    return con.sql(
        f"""
        WITH base AS (
            SELECT campaign_id, {e0} AS e0, {", ".join(f"{m[k - 1]} AS m{k}" for k in range(1, 6))}
            FROM journey
        ), wide AS (
            SELECT campaign_id, e0, date_trunc('month', e0) AS period,
                {", ".join(_reached_sql(k, cut) for k in range(1, 6))}
            FROM base WHERE e0 < {cut}
        ), long AS ({parts}), t AS (
            SELECT campaign_id, period, stage_index,
                count(*) FILTER (WHERE reached) AS count,
                count(*) FILTER (WHERE prev) AS step_denominator,
                count(*) AS overall_denominator,
                {quantiles}
            FROM long GROUP BY ALL
        ), r AS (
            SELECT *, count AS step_numerator, count AS overall_numerator FROM t
        )
        SELECT campaign_id, CAST(period AS TIMESTAMP) AS period, {stage} END AS stage,
            stage_index, count, step_numerator, step_denominator, {_wilson_sql("step_")},
            overall_numerator, overall_denominator, {_wilson_sql("overall_")},
            {", ".join(QUANTILES)}, true AS mature
        FROM r
        ORDER BY campaign_id NULLS LAST, period, stage_index
        """
    ).to_arrow_table()


def cadence_sql(con: duckdb.DuckDBPyConnection, as_of: date) -> Any:
    cut = _ts(cutoff_of(as_of))
    short = ", ".join(
        f"greatest({need} - {name}, 0) AS {name}_short"
        for name, need in {
            "calls": 5,
            "mails": 2,
            "meetings": 0,
            "touches": 0,
            "channels": 0,
        }.items()
    )
    return con.sql(
        f"""
        WITH l AS (
            SELECT lead_id, owner_id, origin, action_status, created_at,
                created_at + INTERVAL 14 DAY AS window_end
            FROM leads WHERE created_at < {cut}
        ), i AS (
            SELECT a.lead_id,
                count(*) FILTER (WHERE direction = 'outbound' AND channel = 'call') AS calls,
                count(*) FILTER (WHERE direction = 'outbound' AND channel = 'email') AS mails,
                count(*) FILTER (WHERE direction = 'outbound' AND channel = 'meeting') AS meetings,
                count(*) FILTER (WHERE {TOUCH_SQL}) AS touches,
                count(*) FILTER (WHERE {CONNECT_SQL}) AS connects,
                min(occurred_at) FILTER (WHERE {CONNECT_SQL}) AS connected_at
            FROM activities a JOIN l ON a.lead_id = l.lead_id
            WHERE a.occurred_at < {cut}
              AND a.occurred_at >= l.created_at AND a.occurred_at < l.window_end
            GROUP BY a.lead_id
        ), c AS (
            SELECT l.*, coalesce(calls, 0) AS calls, coalesce(mails, 0) AS mails,
                coalesce(meetings, 0) AS meetings, coalesce(touches, 0) AS touches,
                coalesce(connects, 0) AS connects, connected_at
            FROM l LEFT JOIN i USING (lead_id)
        ), s AS (
            SELECT *, (calls > 0)::INT + (mails > 0)::INT + (meetings > 0)::INT AS channels FROM c
        ), t AS (SELECT *, {short} FROM s)
        SELECT lead_id, owner_id, origin, action_status, created_at, window_end, calls, mails,
            meetings, touches, channels, calls_short, mails_short, meetings_short,
            touches_short, channels_short, (connects > 0)::BIGINT AS connected_within_window,
            connected_at,
            CASE WHEN action_status = 'no_action_needed' THEN action_status
                 WHEN connects > 0 THEN 'connected'
                 WHEN window_end > {cut} THEN 'in_progress'
                 WHEN calls_short + mails_short + meetings_short + touches_short
                      + channels_short = 0 THEN 'compliant'
                 ELSE 'short' END AS status
        FROM t ORDER BY created_at, lead_id
        """
    ).to_arrow_table()


def allocation_sql(con: duckdb.DuckDBPyConnection, as_of: date) -> Any:
    cut = _ts(cutoff_of(as_of))
    first = con.execute(
        f"SELECT min(date_trunc('month', created_at)) FROM opportunities "
        f"WHERE created_at < {cut} AND owner_id IS NOT NULL"
    ).fetchall()[0][0]
    rows = _month_rows(first.date() if isinstance(first, datetime) else first, as_of)
    values = ", ".join(f"({_ts(p)}, {m!r}, {str(partial).lower()})" for p, m, partial in rows)
    band = "CASE segment " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in BANDS.items()) + " END"
    return con.sql(
        f"""
        WITH sqls AS (
            SELECT owner_id AS rep_id, CAST(date_trunc('month', created_at) AS TIMESTAMP) AS period
            FROM opportunities WHERE created_at < {cut} AND owner_id IS NOT NULL
        ), counts AS (SELECT rep_id, period, count(*) AS sql_count FROM sqls GROUP BY ALL),
        periods(period, months, partial) AS (VALUES {values}),
        ids AS (
            SELECT rep_id FROM reps WHERE role = 'field' UNION SELECT rep_id FROM sqls
        ), info AS (
            SELECT rep_id, segment,
                coalesce(CAST(monthly_sql_capacity AS DOUBLE), {band}) AS monthly_capacity,
                CASE WHEN monthly_sql_capacity IS NOT NULL THEN 'rep'
                     WHEN {band} IS NOT NULL THEN 'segment' END AS capacity_source
            FROM reps
        ), g AS (
            SELECT ids.rep_id, info.segment, p.period, p.partial,
                coalesce(counts.sql_count, 0) AS sql_count, info.monthly_capacity,
                info.monthly_capacity * p.months AS capacity, info.capacity_source
            FROM ids LEFT JOIN info USING (rep_id) CROSS JOIN periods p
            LEFT JOIN counts ON counts.rep_id = ids.rep_id AND counts.period = p.period
        )
        SELECT *, CASE WHEN capacity > 0 THEN sql_count / capacity END AS load,
            CASE WHEN capacity IS NULL THEN 'unknown' WHEN sql_count > capacity THEN 'over'
                 WHEN sql_count >= capacity * 0.9 THEN 'warning' ELSE 'ok' END AS status
        FROM g ORDER BY period, rep_id
        """
    ).to_arrow_table()


IMPLEMENTATIONS: dict[str, dict[str, Any]] = {
    "journey": {"pandas": journey_pandas, "polars": journey_polars, "duckdb": journey_sql},
    "funnel": {"pandas": funnel_pandas, "polars": funnel_polars, "duckdb": funnel_sql},
    "cadence": {"pandas": cadence_pandas, "polars": cadence_polars, "duckdb": cadence_sql},
    "allocation": {
        "pandas": allocation_pandas,
        "polars": allocation_polars,
        "duckdb": allocation_sql,
    },
}
