"""The 24 summary KPIs of DESIGN section 4, hand-written in polars: the yardstick of
the full report.

``python benchmarks/summary_polars.py DATA_DIR AS_OF`` reads the canonical tables
(Parquet, or CSV with the schema's types), computes every summary key the way an
analyst would write it directly in polars, and prints them as JSON. The benchmark
compares pipelinekit's report with this (time) and its summary with this (values).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

BANDS = {"1-30": 60, "31-299": 45, "300-999": 40, "1000+": 30}
TIMESTAMPS = {
    "leads": ["created_at"],
    "activities": ["occurred_at"],
    "opportunities": ["created_at", "validated_at", "closed_at"],
}
NAMES = ("leads", "activities", "opportunities", "accounts", "reps")


def read(folder: Path, name: str) -> pl.LazyFrame:
    parquet = folder / f"{name}.parquet"
    if parquet.exists():
        return pl.scan_parquet(parquet)
    frame = pl.scan_csv(folder / f"{name}.csv", infer_schema_length=10_000)
    times = [c for c in TIMESTAMPS.get(name, []) if c in frame.collect_schema().names()]
    return frame.with_columns(
        [pl.col(c).str.to_datetime(time_unit="us", strict=False) for c in times]
    )


def summary(folder: Path, as_of: date) -> dict[str, Any]:
    cut = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    t = {n: read(folder, n) for n in NAMES}
    leads = t["leads"].filter(pl.col("created_at") < cut)
    acts = t["activities"].filter(pl.col("occurred_at") < cut)
    opps = t["opportunities"].filter(pl.col("created_at") < cut)
    outbound = pl.col("direction") == "outbound"
    touch = outbound & pl.col("channel").is_in(["call", "email", "meeting"])
    connect = (
        ((pl.col("channel") == "call") & (pl.col("outcome") == "connected"))
        | ((pl.col("channel") == "email") & (pl.col("outcome") == "replied"))
        | ((pl.col("channel") == "meeting") & (pl.col("outcome") == "held"))
    )
    email_out = outbound & (pl.col("channel") == "email")
    delivered = email_out & (pl.col("outcome") != "bounced")
    call = pl.col("channel") == "call"

    activity = acts.select(
        call.sum().alias("calls"),
        (call & (pl.col("outcome") == "connected")).sum().alias("connected_calls"),
        pl.col("duration_s").filter(call).sum().alias("talk_time_s"),
        delivered.sum().alias("emails_delivered"),
        (delivered & pl.col("outcome").is_in(["opened", "clicked", "replied"]))
        .sum()
        .alias("opened"),
        (delivered & pl.col("outcome").is_in(["clicked", "replied"])).sum().alias("clicked"),
    )
    per_lead = (
        acts.filter(pl.col("lead_id").is_not_null())
        .group_by("lead_id")
        .agg(touch.any().alias("touched"), connect.any().alias("connected"))
    )
    lead_day = leads.select(
        "lead_id", "origin", pl.col("created_at").dt.truncate("1d").alias("day")
    )
    same_day = (
        acts.filter(touch & pl.col("lead_id").is_not_null())
        .select("lead_id", pl.col("occurred_at").dt.truncate("1d").alias("day"))
        .unique()
        .join(lead_day.filter(pl.col("origin") == "inbound"), on=["lead_id", "day"])
        .select(pl.col("lead_id").n_unique().alias("same_day"))
    )
    window = (
        acts.join(leads.select("lead_id", "created_at"), on="lead_id")
        .filter(
            (pl.col("occurred_at") >= pl.col("created_at"))
            & (pl.col("occurred_at") < pl.col("created_at") + timedelta(days=14))
        )
        .group_by("lead_id")
        .agg(
            (outbound & call).sum().alias("calls"),
            email_out.sum().alias("mails"),
            connect.sum().alias("connects"),
        )
    )
    cadence = (
        leads.select("lead_id", "created_at")
        .join(window, on="lead_id", how="left")
        .filter(pl.col("created_at") + timedelta(days=14) <= cut)
        .filter(pl.col("connects").fill_null(0) == 0)
        .select(
            pl.len().alias("eligible"),
            ((pl.col("calls").fill_null(0) >= 5) & (pl.col("mails").fill_null(0) >= 2))
            .sum()
            .alias("compliant"),
        )
    )
    lead_counts = (
        leads.join(per_lead, on="lead_id", how="left")
        .join(
            opps.select("lead_id").unique().with_columns(pl.lit(True).alias("sql")),
            on="lead_id",
            how="left",
        )
        .select(
            pl.len().alias("leads"),
            (pl.col("origin") == "inbound").sum().alias("inbound_leads"),
            pl.col("touched").fill_null(False).sum().alias("touched_leads"),
            pl.col("connected").fill_null(False).sum().alias("connected_leads"),
            pl.col("sql").fill_null(False).sum().alias("with_sql"),
        )
    )
    valid = (pl.col("validated_at") < cut).fill_null(False)
    closed = (pl.col("closed_at") < cut).fill_null(False)
    won = closed & pl.col("is_won").fill_null(False)
    targets = (
        t["accounts"]
        .filter(pl.col("is_target").fill_null(False))
        .select(pl.col("account_id").alias("account"), pl.lit(True).alias("target"))
    )
    opp_frame = (
        opps.join(
            t["leads"].select("lead_id", pl.col("account_id").alias("lead_account")),
            on="lead_id",
            how="left",
        )
        .with_columns(pl.coalesce("account_id", "lead_account").alias("account"))
        .join(targets, on="account", how="left")
    )
    opp_counts = opp_frame.select(
        pl.len().alias("sqls"),
        valid.sum().alias("valid"),
        closed.sum().alias("closed"),
        won.sum().alias("won"),
        (won & valid).sum().alias("valid_won"),
        pl.col("amount").filter(won).sum().alias("won_amount"),
        pl.col("target").fill_null(False).sum().alias("target_sqls"),
        pl.col("amount").filter(won & pl.col("target").fill_null(False)).sum().alias("target_won"),
    )
    reps = t["reps"].select(
        pl.col("rep_id").alias("owner_id"),
        pl.coalesce(
            pl.col("monthly_sql_capacity").cast(pl.Float64),
            pl.col("segment").replace_strict(BANDS, default=None, return_dtype=pl.Float64),
        ).alias("capacity"),
    )
    over = (
        opps.filter(pl.col("owner_id").is_not_null())
        .group_by("owner_id", pl.col("created_at").dt.truncate("1mo").alias("month"))
        .agg(pl.len().alias("n"))
        .join(reps, on="owner_id")
        .select((pl.col("n") > pl.col("capacity")).sum().alias("over"))
    )
    parts = pl.collect_all([activity, lead_counts, same_day, cadence, opp_counts, over])
    a, lc, sd, cad, oc, ov = (p.row(0, named=True) for p in parts)

    def rate(n: float, d: float) -> dict[str, Any]:
        return {"numerator": n, "denominator": d, "value": n / d if d else None}

    return {
        "leads": lc["leads"],
        "inbound_leads": lc["inbound_leads"],
        "touched_leads": lc["touched_leads"],
        "connected_leads": lc["connected_leads"],
        "sqls": oc["sqls"],
        "valid_opportunities": oc["valid"],
        "won": oc["won"],
        "won_amount": float(oc["won_amount"] or 0.0),
        "calls": a["calls"],
        "connected_calls": a["connected_calls"],
        "call_connect_rate": rate(a["connected_calls"], a["calls"]),
        "talk_time_s": float(a["talk_time_s"] or 0.0),
        "emails_delivered": a["emails_delivered"],
        "email_open_rate": rate(a["opened"], a["emails_delivered"]),
        "email_click_rate": rate(a["clicked"], a["emails_delivered"]),
        "lead_to_sql_rate": rate(lc["with_sql"], lc["leads"]),
        "sql_to_valid_rate": rate(oc["valid"], oc["sqls"]),
        "valid_to_won_rate": rate(oc["valid_won"], oc["valid"]),
        "win_rate": rate(oc["won"], oc["closed"]),
        "same_day_approach_rate": rate(sd["same_day"], lc["inbound_leads"]),
        "cadence_5c2m_rate": rate(cad["compliant"], cad["eligible"]),
        "sql_over_capacity_rep_months": ov["over"],
        "target_account_sqls": oc["target_sqls"],
        "target_account_won_amount": float(oc["target_won"] or 0.0),
    }


def main() -> None:
    folder, day = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
    print(json.dumps(summary(folder, day), indent=2))


if __name__ == "__main__":
    main()
