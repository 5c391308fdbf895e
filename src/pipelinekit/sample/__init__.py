"""Seeded, realistic synthetic sample data in the canonical tables.

The generator builds every table of DESIGN section 2 (``accounts``, ``reps``,
``campaigns``, ``leads``, ``activities``, ``opportunities``, ``stage_changes``)
from one :func:`numpy.random.default_rng` stream, so the same arguments always give
the same frames; ``campaign_members`` (DESIGN section 8) comes from a second stream
seeded ``[seed, 16]``, drawn after the first, so adding it changed no other table, and
``opportunity_history`` with the opportunities' ``expected_close_on`` and
``forecast_category`` (DESIGN section 7) from a third, ``[seed, 17]``, so adding them
changed no other table or column. The ``quotas`` table and the reps' ``team``
(DESIGN section 7) come last: quotas from a fourth stream, ``[seed, 18]``, teams from
the rep order, so neither changed another table.
All per-row work is vectorised with numpy: a million leads with about ten million
activities take seconds, not minutes.

Timestamps are naive wall-clock times in the dataset time zone (``Asia/Tokyo``).
Events (lead creation, activities, opportunity stages) all fall inside
``[start, start + months)``; planned dates (``next_activity_on``, ``recycle_on``)
may lie after the end of the data, as planned dates do.
"""

from __future__ import annotations

import functools
import os
import pathlib
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from pipelinekit._atomic import write_atomic
from pipelinekit.sample._activities import (
    _account_calls,
    _Acts,
    _concat_acts,
    _first_connect,
    _inbound_responses,
    _key_person,
    _outbound_touches,
    _take_acts,
    _thin_after_connect,
    _web_activity,
)
from pipelinekit.sample._common import _TABLE_COLUMNS, I64, Bool
from pipelinekit.sample._frames import (
    _accounts_frame,
    _activities_frame,
    _campaigns_frame,
    _id_width,
    _leads_frame,
    _opportunities_frame,
    _reps_frame,
    _stage_changes_frame,
    _Widths,
)
from pipelinekit.sample._history import (
    _history_columns,
    _make_history,
    _opportunity_history_frame,
)
from pipelinekit.sample._members import _campaign_members_frame
from pipelinekit.sample._opportunities import (
    _ensure_overload,
    _field_capacities,
    _lead_state,
    _make_opps,
    _meetings,
    _Opps,
)
from pipelinekit.sample._people import (
    _Accounts,
    _Leads,
    _make_accounts,
    _make_campaigns,
    _make_leads,
    _make_reps,
    _Reps,
)
from pipelinekit.sample._quotas import _quotas_frame
from pipelinekit.sample._random import _Span, _span
from pipelinekit.sample._write import _write_csv, _write_parquet, _write_to

__all__ = ["generate_sample", "write_sample"]


def _lead_activities(
    rng: np.random.Generator, leads: _Leads, reps: _Reps
) -> tuple[list[_Acts], list[Bool], I64]:
    """Lead-level touches, responses and web activity (with rows to keep) and first connects."""
    touches = _outbound_touches(rng, leads, reps)
    responses = _inbound_responses(rng, touches)
    fc = _first_connect([touches, responses], leads.n)
    kept = _thin_after_connect(rng, touches, fc)
    web = _web_activity(rng, leads, touches, kept)
    all_rows = [np.ones(len(a.t), dtype=np.bool_) for a in (responses, web)]
    return [touches, responses, web], [kept, *all_rows], fc


def _assemble_activities(
    rng: np.random.Generator,
    span: _Span,
    data: tuple[_Leads, _Accounts, _Reps, _Opps],
    fc: I64,
    parts: list[_Acts],
    kept: list[Bool],
) -> tuple[_Acts, I64]:
    """All activities inside the window, in time order, with their account index."""
    leads, accounts, reps, opps = data
    meet_account, meetings = _meetings(rng, span, leads, reps, opps, fc)
    parts, kept = [*parts, meetings], [*kept, np.ones(len(meetings.t), dtype=np.bool_)]
    kept = [
        k & (a.t >= span.start_s) & (a.t < span.end_s) for a, k in zip(parts, kept, strict=True)
    ]
    # about 3% of all activities are account-level BDR calls without a lead
    n_lead_rows = sum(int(k.sum()) for k in kept)
    bdr_account, bdr = _account_calls(rng, span, accounts, reps, round(n_lead_rows * 0.031))
    acts = _concat_acts([*parts, bdr])
    keep = np.concatenate([*kept, np.ones(len(bdr.t), dtype=np.bool_)])
    own_account = np.concatenate(
        [np.full(len(acts.t) - len(meet_account) - len(bdr_account), -1), meet_account, bdr_account]
    )
    (idx,) = np.nonzero(keep)
    order = idx[np.argsort(acts.t[idx], kind="stable")]
    acts = _take_acts(acts, order)
    account = np.where(
        acts.lead >= 0, leads.account[np.maximum(acts.lead, 0)], own_account[order]
    ).astype(np.int64)
    return replace(acts, key_person=_key_person(rng, leads, acts)), account


def generate_sample(
    *, leads: int = 2000, seed: int = 7, start: str = "2025-01-01", months: int = 12
) -> dict[str, pd.DataFrame]:
    """Generate a realistic synthetic dataset in the canonical tables.

    Parameters
    ----------
    leads : int, default 2000
        Number of leads. Accounts (about ``leads / 4``), reps, activities (about
        ten per lead) and opportunities (about one lead in ten) scale with it.
    seed : int, default 7
        Seed of :func:`numpy.random.default_rng`; the same arguments always give
        identical frames.
    start : str, default "2025-01-01"
        First day of the data (a naive date, wall-clock ``Asia/Tokyo``).
    months : int, default 12
        Length of the data window; no event is dated on or after
        ``start + months``.

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``accounts``, ``reps``, ``campaigns``, ``leads``, ``activities``,
        ``opportunities``, ``stage_changes``, ``campaign_members`` and
        ``opportunity_history`` with exactly the columns of DESIGN sections 2, 7 and 8,
        in order (``campaign_members`` comes from its own random stream,
        ``default_rng([seed, 16])``, and ``opportunity_history`` with the
        opportunities' ``expected_close_on`` and ``forecast_category`` from
        ``default_rng([seed, 17])``, both drawn after the others).
        Ids and text use the ``str`` dtype, integers ``Int64``, ``is_won``
        ``boolean``, other flags ``bool``, timestamps and dates naive
        ``datetime64[us]``.

    Raises
    ------
    ValueError
        If ``leads`` or ``months`` is below 1 or ``start`` carries a time zone.

    Examples
    --------
    >>> tables = generate_sample(leads=50, seed=1)
    >>> sorted(tables)
    ['accounts', 'activities', 'campaign_members', 'campaigns', 'leads', 'opportunities',
     'opportunity_history', 'quotas', 'reps', 'stage_changes']
    >>> len(tables["leads"])
    50
    """
    if leads < 1:
        msg = f"leads must be at least 1, got {leads}"
        raise ValueError(msg)
    if months < 1:
        msg = f"months must be at least 1, got {months}"
        raise ValueError(msg)
    span = _span(start, months)
    rng = np.random.default_rng(seed)
    accounts = _make_accounts(rng, max(50, leads // 4))
    reps = _make_reps(rng, leads)
    campaigns = _make_campaigns(rng, span)
    lead_data = _make_leads(rng, span, leads, accounts, reps, campaigns)
    parts, kept, fc = _lead_activities(rng, lead_data, reps)
    opps = _make_opps(rng, span, lead_data, accounts, reps, fc)
    capacity = _field_capacities(rng, span, reps, opps)
    opps = replace(opps, owner=_ensure_overload(span, opps, capacity))
    acts, account = _assemble_activities(
        rng, span, (lead_data, accounts, reps, opps), fc, parts, kept
    )
    has_opp = np.zeros(leads, dtype=np.bool_)
    has_opp[opps.lead[opps.lead >= 0]] = True
    state = _lead_state(rng, span, lead_data, acts, has_opp)

    widths = _Widths(
        account=_id_width(accounts.n, 6),
        rep=_id_width(reps.n, 4),
        lead=_id_width(leads, 6),
        activity=_id_width(len(acts.t), 7),
        opportunity=_id_width(len(opps.created), 5),
    )
    # drawn from its own stream: the tables and columns below do not change with it
    history = _make_history(span, opps, seed)
    tables = {
        "accounts": _accounts_frame(accounts, widths.account),
        "reps": _reps_frame(reps, capacity),
        "campaigns": _campaigns_frame(campaigns),
        "leads": _leads_frame(lead_data, state, widths),
        "activities": _activities_frame(acts, account, widths),
        "opportunities": _opportunities_frame(opps, reps, widths, _history_columns(history)),
        "stage_changes": _stage_changes_frame(opps, widths),
        # drawn last from their own stream: the tables above do not change
        "campaign_members": _campaign_members_frame(span, lead_data, campaigns, seed, widths.lead),
        "opportunity_history": _opportunity_history_frame(history, widths.opportunity),
    }
    tables["quotas"] = _quotas_frame(
        span, tables["reps"], tables["opportunities"], tables["activities"], seed
    )
    return tables


def write_sample(
    out_dir: str | os.PathLike[str],
    *,
    leads: int = 2000,
    seed: int = 7,
    format: Literal["csv", "parquet"] = "csv",
    start: str = "2025-01-01",
    months: int = 12,
) -> list[pathlib.Path]:
    """Generate the sample and write one file per table.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Directory to write into; created when missing.
    leads, seed, start, months
        Passed to :func:`generate_sample`.
    format : {"csv", "parquet"}, default "csv"
        CSV is UTF-8 with a header row, ISO-8601 timestamps without offset
        (``2025-03-04T09:15:00``), dates as ``2025-03-04``, booleans
        ``true``/``false`` and empty cells for missing values.

    Returns
    -------
    list[pathlib.Path]
        The files written (``accounts.csv``, ``leads.csv``, ...), in table order.

    Raises
    ------
    ValueError
        If ``format`` is not ``"csv"`` or ``"parquet"``, or the arguments are
        rejected by :func:`generate_sample`.
    """
    if format not in ("csv", "parquet"):
        msg = f"format must be 'csv' or 'parquet', got {format!r}"
        raise ValueError(msg)
    tables = generate_sample(leads=leads, seed=seed, start=start, months=months)
    directory = pathlib.Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    writer = _write_csv if format == "csv" else _write_parquet
    written = []
    for name in _TABLE_COLUMNS:
        path = directory / f"{name}.{format}"
        write_atomic(path, functools.partial(_write_to, writer, tables[name]))
        written.append(path)
    return written
