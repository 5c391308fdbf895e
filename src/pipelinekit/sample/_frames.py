"""Column builders and the canonical pandas frames of every table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from pipelinekit.sample import _common
from pipelinekit.sample._activities import _Acts
from pipelinekit.sample._common import _DAY, _TABLE_COLUMNS, I64, Bool, Codes
from pipelinekit.sample._opportunities import _LeadState, _Opps, _stage_rows
from pipelinekit.sample._people import _Accounts, _campaign_names, _Campaigns, _Leads, _Reps
from pipelinekit.sample._vocab import (
    _BANDS,
    _CAMPAIGN_CHANNELS,
    _CHANNELS,
    _DEPARTMENTS,
    _DIRECTIONS,
    _GIVEN_NAMES,
    _INDUSTRIES,
    _NAME_CORES,
    _NAME_PREFIXES,
    _NAME_SUFFIXES,
    _ORIGINS,
    _OUTCOMES,
    _PRIORITIES,
    _PRODUCTS,
    _RECYCLE_REASONS,
    _REGIONS,
    _ROLES,
    _SOURCES,
    _STAGE_WON,
    _STAGES,
    _STATUSES,
    _SURNAMES,
    _TIERS,
    _TITLES,
    _VALID_STAGE,
)

# ------------------------------------------------------------- column builders


def _fixed_width_col(buf: npt.NDArray[np.uint8], valid: Bool | None) -> pd.Series:
    """``str`` column whose row i is the ASCII text ``buf[i]`` (missing where not valid)."""
    m, width = buf.shape
    buf = np.ascontiguousarray(buf)
    if _common.USE_ARROW:
        import pyarrow as pa

        offsets = np.arange(0, (m + 1) * width, width, dtype=np.int64)
        bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
        array = pa.Array.from_buffers(
            pa.large_string(),
            m,
            [bitmap, pa.py_buffer(offsets), pa.py_buffer(buf)],
            null_count=-1,
        )
        return pd.Series(pd.array(array, dtype="str"))
    text = buf.view(f"S{width}")[:, 0].astype(f"U{width}").astype(object)
    if valid is not None:
        text[~valid] = None
    return pd.Series(text, dtype="str")


# "0000".."9999" as little-endian 32-bit words: one table lookup formats four digits
_FOUR_DIGITS: Final = np.frombuffer(
    "".join(f"{i:04d}" for i in range(10_000)).encode("ascii"), dtype="<u4"
)


def _digit_bytes(values: I64, width: int) -> npt.NDArray[np.uint8]:
    """(rows x width) ASCII digits of non-negative ``values``, zero-padded."""
    m = len(values)
    n_words = -(-width // 4)
    words = np.empty((m, n_words), dtype="<u4")
    small = m == 0 or int(values.max()) < 2**32
    x: npt.NDArray[np.unsignedinteger[Any]] = values.astype(np.uint32 if small else np.uint64)
    for w in range(n_words - 1, -1, -1):  # the last word holds the lowest digits
        q = x // 10_000
        words[:, w] = _FOUR_DIGITS[x - q * 10_000]
        x = q
    return words.view(np.uint8)[:, n_words * 4 - width :]


def _put_digits(buf: npt.NDArray[np.uint8], col: int, values: I64, width: int) -> None:
    """Write zero-padded decimal ``values`` into ``buf[:, col:col + width]``."""
    buf[:, col : col + width] = _digit_bytes(values, width)


def _id_col(prefix: str, index: Codes, width: int) -> pd.Series:
    """``prefix`` + 1-based zero-padded number (``acc-000042``); negative index = missing."""
    head = prefix.encode("ascii")
    buf = np.empty((len(index), len(head) + width), dtype=np.uint8)
    buf[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    _put_digits(buf, len(head), np.maximum(index, 0) + 1, width)
    return _fixed_width_col(buf, index >= 0)


def _id_width(n: int, minimum: int) -> int:
    return max(minimum, len(str(max(n, 1))))


def _label_col(labels: Sequence[str], codes: Codes) -> pd.Series:
    """``str`` column of ``labels[code]``; a negative code = missing."""
    if _common.USE_ARROW:
        import pyarrow as pa

        dictionary = pa.array(list(labels), type=pa.large_string())
        indices = pa.array(np.maximum(codes, 0), mask=codes < 0)
        return pd.Series(pd.array(dictionary.take(indices), dtype="str"))
    vocabulary = np.asarray([*labels, None], dtype=object)  # code -1 -> None
    return pd.Series(vocabulary[np.where(codes >= 0, codes, -1)], dtype="str")


def _ts_col(seconds: I64, valid: Bool | None = None) -> pd.Series:
    values = (seconds * 1_000_000).astype("datetime64[us]")
    if valid is not None:
        values = np.where(valid, values, np.datetime64("NaT", "us"))
    return pd.Series(values)


def _date_col(days: I64) -> pd.Series:
    return _ts_col(days * _DAY, days >= 0)


def _int_col(values: I64, valid: Bool | None = None) -> pd.Series:
    mask = np.zeros(len(values), dtype=np.bool_) if valid is None else ~valid
    return pd.Series(pd.arrays.IntegerArray(values.astype(np.int64), mask))


def _frame(table: str, columns: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.DataFrame({name: columns[name] for name in _TABLE_COLUMNS[table]})


# ------------------------------------------------------------------ table frames


def _company_names() -> list[str]:
    """Every company name; code = (prefix * n_cores + core) * n_suffixes + suffix."""
    cores = [core for group in _NAME_CORES for core in group]
    return [f"{p} {c} {s}" for p in _NAME_PREFIXES for c in cores for s in _NAME_SUFFIXES]


def _person_names() -> list[str]:
    """Every rep name; code = given * n_surnames + surname."""
    return [f"{given} {surname}" for given in _GIVEN_NAMES for surname in _SURNAMES]


def _accounts_frame(a: _Accounts, width: int) -> pd.DataFrame:
    return _frame(
        "accounts",
        {
            "account_id": _id_col("acc-", np.arange(a.n, dtype=np.int64), width),
            "name": _label_col(_company_names(), a.name_codes),
            "industry": _label_col(_INDUSTRIES, a.industry),
            "region": _label_col(_REGIONS, a.region),
            "employees": _int_col(a.employees, a.employees_known),
            "annual_revenue": pd.Series(a.revenue, dtype="float64"),
            "is_target": pd.Series(a.is_target, dtype="bool"),
            "target_tier": _label_col(_TIERS, a.tier),
        },
    )


def _reps_frame(r: _Reps, capacity: I64) -> pd.DataFrame:
    role = np.repeat(np.arange(3, dtype=np.int64), (r.n_inside, r.n_field, r.n_manager))
    segment = np.full(r.n, -1, dtype=np.int64)
    segment[r.field_offset : r.manager_offset] = r.field_segment
    cap = np.full(r.n, -1, dtype=np.int64)
    cap[r.field_offset : r.manager_offset] = capacity
    return _frame(
        "reps",
        {
            "rep_id": _id_col("rep-", np.arange(r.n, dtype=np.int64), _id_width(r.n, 4)),
            "name": _label_col(_person_names(), r.name_codes),
            "role": _label_col(_ROLES, role),
            "segment": _label_col(_BANDS, segment),
            "monthly_sql_capacity": _int_col(cap, cap > 0),
            "team": _label_col(_TEAMS, _team_codes(r)),
        },
    )


#: The sample's teams: every inside rep in one team, field reps alternating between two.
_TEAMS = ("Inside Sales", "Field East", "Field West")


def _team_codes(r: _Reps) -> I64:
    """Team per rep (index into :data:`_TEAMS`; managers -1 = none), from rep order."""
    team = np.full(r.n, -1, dtype=np.int64)
    team[: r.n_inside] = 0
    team[r.field_offset : r.manager_offset] = 1 + np.arange(r.n_field, dtype=np.int64) % 2
    return team


def _campaigns_frame(c: _Campaigns) -> pd.DataFrame:
    n = len(c.channel)
    return _frame(
        "campaigns",
        {
            "campaign_id": _id_col("cmp-", np.arange(n, dtype=np.int64), 3),
            "name": pd.Series(_campaign_names(c), dtype="str"),
            "channel": _label_col(_CAMPAIGN_CHANNELS, c.channel),
            "started_on": _date_col(c.started_day),
        },
    )


@dataclass(frozen=True)
class _Widths:
    account: int
    rep: int
    lead: int
    activity: int
    opportunity: int


def _leads_frame(leads: _Leads, state: _LeadState, w: _Widths) -> pd.DataFrame:
    return _frame(
        "leads",
        {
            "lead_id": _id_col("lead-", np.arange(leads.n, dtype=np.int64), w.lead),
            "account_id": _id_col("acc-", leads.account, w.account),
            "owner_id": _id_col("rep-", leads.owner, w.rep),
            "created_at": _ts_col(leads.created),
            "origin": _label_col(_ORIGINS, np.where(leads.inbound, 0, 1)),
            "source": _label_col(_SOURCES, leads.source),
            "campaign_id": _id_col("cmp-", leads.campaign, 3),
            "action_status": _label_col(_STATUSES, state.status),
            "priority": _label_col(_PRIORITIES, leads.priority),
            "next_activity_on": _date_col(state.next_activity_day),
            "recycle_on": _date_col(state.recycle_day),
            "recycle_reason": _label_col(_RECYCLE_REASONS, state.recycle_reason),
            "department": _label_col(_DEPARTMENTS, leads.department),
            "title": _label_col(_TITLES, leads.title),
        },
    )


def _activities_frame(acts: _Acts, account: I64, w: _Widths) -> pd.DataFrame:
    n = len(acts.t)
    return _frame(
        "activities",
        {
            "activity_id": _id_col("act-", np.arange(n, dtype=np.int64), w.activity),
            "lead_id": _id_col("lead-", acts.lead, w.lead),
            "account_id": _id_col("acc-", account, w.account),
            "owner_id": _id_col("rep-", acts.owner, w.rep),
            "occurred_at": _ts_col(acts.t),
            "channel": _label_col(_CHANNELS, acts.channel),
            "direction": _label_col(_DIRECTIONS, acts.inbound.astype(np.int64)),
            "outcome": _label_col(_OUTCOMES, acts.outcome),
            "duration_s": pd.Series(acts.duration, dtype="float64"),
            "is_key_person": pd.Series(acts.key_person, dtype="bool"),
        },
    )


def _opportunities_frame(
    o: _Opps, reps: _Reps, w: _Widths, history_columns: dict[str, pd.Series]
) -> pd.DataFrame:
    """The opportunities; ``history_columns`` (``expected_close_on``,
    ``forecast_category``) come from the opportunity history's own stream."""
    m = len(o.created)
    closed = o.result >= 0
    stage = np.where(closed, o.result, o.reached)
    is_won = pd.arrays.BooleanArray(o.result == _STAGE_WON, ~closed | o.is_won_missing)
    return _frame(
        "opportunities",
        {
            "opportunity_id": _id_col("opp-", np.arange(m, dtype=np.int64), w.opportunity),
            "lead_id": _id_col("lead-", o.lead, w.lead),
            "account_id": _id_col("acc-", o.account, w.account),
            "owner_id": _id_col("rep-", reps.field_offset + o.owner, w.rep),
            "created_at": _ts_col(o.created),
            "origin": _label_col(_ORIGINS, o.origin),
            "validated_at": _ts_col(o.times[:, _VALID_STAGE], o.times[:, _VALID_STAGE] >= 0),
            "stage": _label_col(_STAGES, stage),
            "closed_at": _ts_col(o.times[:, 4], closed),
            "is_won": pd.Series(is_won),
            "amount": pd.Series(o.amount, dtype="float64"),
            "quantity": _int_col(o.quantity, o.quantity_known),
            "first_meeting_attendees": _int_col(o.attendees, o.attendees_known),
            "probability": pd.Series(o.probability, dtype="float64"),
            "product": _label_col(_PRODUCTS, o.product),
            "campaign_id": _id_col("cmp-", o.campaign, 3),
            **history_columns,
        },
    )


def _stage_changes_frame(o: _Opps, w: _Widths) -> pd.DataFrame:
    opp, stage, entered = _stage_rows(o)
    return _frame(
        "stage_changes",
        {
            "opportunity_id": _id_col("opp-", opp, w.opportunity),
            "stage": _label_col(_STAGES, stage),
            "entered_at": _ts_col(entered),
        },
    )
