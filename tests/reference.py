"""Independent plain-Python computation of the report summary (DESIGN section 4).

Written from the definitions with loops over row dictionaries, sharing no code with
pipelinekit, so tests can compare the two on generated data.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

BANDS = {"1-30": 60, "31-299": 45, "300-999": 40, "1000+": 30}


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                clean[k] = None
            elif isinstance(v, pd.Timestamp):
                clean[k] = v.to_pydatetime()
            else:
                clean[k] = v
        out.append(clean)
    return out


def reference_summary(tables: dict[str, pd.DataFrame], as_of: date) -> dict[str, Any]:
    cutoff = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    all_leads = rows(tables["leads"])
    leads = [r for r in all_leads if r["created_at"] < cutoff]
    acts = [r for r in rows(tables["activities"]) if r["occurred_at"] < cutoff]
    opps = [r for r in rows(tables["opportunities"]) if r["created_at"] < cutoff]
    accounts = {r["account_id"]: r for r in rows(tables["accounts"])}
    reps = {r["rep_id"]: r for r in rows(tables["reps"])}

    def is_touch(a: dict[str, Any]) -> bool:
        return a["direction"] == "outbound" and a["channel"] in ("call", "email", "meeting")

    def is_connect(a: dict[str, Any]) -> bool:
        return (a["channel"], a["outcome"]) in {
            ("call", "connected"),
            ("email", "replied"),
            ("meeting", "held"),
        }

    by_lead: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in acts:
        if a["lead_id"] is not None:
            by_lead[a["lead_id"]].append(a)
    lead_ids = {r["lead_id"] for r in leads}
    opp_leads = {o["lead_id"] for o in opps if o["lead_id"] is not None}

    out: dict[str, Any] = {}
    out["leads"] = len(leads)
    out["inbound_leads"] = sum(1 for r in leads if r["origin"] == "inbound")
    out["touched_leads"] = sum(1 for r in leads if any(is_touch(a) for a in by_lead[r["lead_id"]]))
    out["connected_leads"] = sum(
        1 for r in leads if any(is_connect(a) for a in by_lead[r["lead_id"]])
    )
    out["sqls"] = len(opps)
    valid = [o for o in opps if o["validated_at"] is not None and o["validated_at"] < cutoff]
    closed = [o for o in opps if o["closed_at"] is not None and o["closed_at"] < cutoff]
    won = [o for o in closed if o["is_won"] is True]
    out["valid_opportunities"] = len(valid)
    out["won"] = len(won)
    out["won_amount"] = float(sum(o["amount"] or 0.0 for o in won))
    calls = [a for a in acts if a["channel"] == "call"]
    out["calls"] = len(calls)
    out["connected_calls"] = sum(1 for a in calls if a["outcome"] == "connected")
    out["call_connect_rate"] = (out["connected_calls"], out["calls"])
    out["talk_time_s"] = float(sum(a["duration_s"] or 0.0 for a in calls))
    delivered = [
        a
        for a in acts
        if a["channel"] == "email" and a["direction"] == "outbound" and a["outcome"] != "bounced"
    ]
    out["emails_delivered"] = len(delivered)
    opened = sum(1 for a in delivered if a["outcome"] in ("opened", "clicked", "replied"))
    clicked = sum(1 for a in delivered if a["outcome"] in ("clicked", "replied"))
    out["email_open_rate"] = (opened, len(delivered))
    out["email_click_rate"] = (clicked, len(delivered))
    out["lead_to_sql_rate"] = (sum(1 for i in lead_ids if i in opp_leads), len(leads))
    out["sql_to_valid_rate"] = (len(valid), len(opps))
    valid_ids = {o["opportunity_id"] for o in valid}
    out["valid_to_won_rate"] = (sum(1 for o in won if o["opportunity_id"] in valid_ids), len(valid))
    out["win_rate"] = (len(won), len(closed))
    inbound = [r for r in leads if r["origin"] == "inbound"]
    same_day = sum(
        1
        for r in inbound
        if any(
            is_touch(a) and a["occurred_at"].date() == r["created_at"].date()
            for a in by_lead[r["lead_id"]]
        )
    )
    out["same_day_approach_rate"] = (same_day, len(inbound))
    eligible = compliant = 0
    for r in leads:
        start = r["created_at"]
        end = start + timedelta(days=14)
        if end > cutoff:
            continue
        inside = [a for a in by_lead[r["lead_id"]] if start <= a["occurred_at"] < end]
        if any(is_connect(a) for a in inside):
            continue
        eligible += 1
        n_calls = sum(1 for a in inside if a["direction"] == "outbound" and a["channel"] == "call")
        n_mails = sum(1 for a in inside if a["direction"] == "outbound" and a["channel"] == "email")
        if n_calls >= 5 and n_mails >= 2:
            compliant += 1
    out["cadence_5c2m_rate"] = (compliant, eligible)
    per_rep_month: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    for o in opps:
        if o["owner_id"] is not None:
            per_rep_month[(o["owner_id"], (o["created_at"].year, o["created_at"].month))] += 1
    over = 0
    for (owner, _month), n in per_rep_month.items():
        rep = reps.get(owner)
        if rep is None:
            continue
        capacity = rep["monthly_sql_capacity"]
        if capacity is None:
            capacity = BANDS.get(rep["segment"])
        if capacity is not None and n > capacity:
            over += 1
    out["sql_over_capacity_rep_months"] = over
    lead_account = {r["lead_id"]: r["account_id"] for r in all_leads}

    def account_of(o: dict[str, Any]) -> Any:
        return o["account_id"] if o["account_id"] is not None else lead_account.get(o["lead_id"])

    def targeted(o: dict[str, Any]) -> bool:
        acc = accounts.get(account_of(o))
        return bool(acc and acc["is_target"])

    out["target_account_sqls"] = sum(1 for o in opps if targeted(o))
    out["target_account_won_amount"] = float(sum(o["amount"] or 0.0 for o in won if targeted(o)))
    return out
