"""Campaigns: leads, SQLs and wins per campaign, SQL CVR by IS owner, change alerts.

A lead belongs to the campaign of its own ``campaign_id`` (``opportunities.campaign_id``
is not used); leads without a campaign form their own row (``campaign_id`` null,
sorted last). Counting is as of the end of ``as_of`` (DESIGN section 4): leads by
``created_at``; a lead is an SQL when it has an opportunity created by then and won
when one of its opportunities is won and closed by then. With ``freq``, rows are
lead cohorts: the period of the lead's ``created_at``, with its outcomes up to
``as_of``.

The lead -> SQL conversion rate (CVR) is ``sql_count / lead_count`` with the usual
rate columns; a campaign with no leads (listed in ``campaigns`` only, or a period
without leads) has a zero denominator, handled by ``zero_division``.

Examples
--------
>>> z, p = two_proportion_z_test(10, 100, 25, 100)
>>> round(z, 4), round(p, 4)
(2.7915, 0.0052)
"""

from __future__ import annotations

import math
from datetime import date, datetime
from statistics import NormalDist
from typing import Any, TypeVar

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_confidence
from pipelinekit._signature import former_table_order
from pipelinekit.errors import ConfigError
from pipelinekit.facts.journey import opportunity_summary
from pipelinekit.metrics._accounts import (
    OPPORTUNITY_OPTIONAL,
    as_of_opportunities,
    check_options,
    check_raise,
    complete,
    null_safe,
    period_keys,
    restore_null,
    with_period,
)
from pipelinekit.periods import Freq, check_freq
from pipelinekit.rates import ZeroDivision, rate_columns

__all__ = [
    "NO_CAMPAIGN",
    "campaign_alerts",
    "campaign_member_cvr",
    "campaign_performance",
    "two_proportion_z_test",
]

FrameT = TypeVar("FrameT")
LazyFrame = nw.LazyFrame[Any]

INT = nw.Int64()
FLOAT = nw.Float64()
_COUNTS = ("lead_count", "sql_count", "won_count")

# Coefficients of the Chebyshev fit of erfc (Numerical Recipes ``erfcc``), relative
# error below 1.2e-7 everywhere: the p-value as a column expression on every engine.
_ERFC = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion z-test of ``x2/n2`` against ``x1/n1`` (two-sided).

    ``z = (p2 - p1) / sqrt(p (1 - p) (1/n1 + 1/n2))`` with the pooled
    ``p = (x1 + x2) / (n1 + n2)``; the p-value is ``2 (1 - Phi(|z|))``. Returns
    ``(nan, nan)`` when a sample is empty or the pooled rate is 0 or 1.

    >>> two_proportion_z_test(0, 0, 1, 2)
    (nan, nan)
    """
    if n1 <= 0 or n2 <= 0:
        return (math.nan, math.nan)
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return (math.nan, math.nan)
    z = (x2 / n2 - x1 / n1) / math.sqrt(variance)
    return (z, 2.0 * (1.0 - NormalDist().cdf(abs(z))))


def _two_sided_p(z: nw.Expr) -> nw.Expr:
    """``2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2)`` as an expression (error < 1.2e-7)."""
    x = z.abs() / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * x)
    poly: nw.Expr = nw.lit(_ERFC[-1])
    for c in reversed(_ERFC[1:-1]):
        poly = c + t * poly
    return t * (-x * x + _ERFC[0] + t * poly).exp()


# ------------------------------------------------------------------- helpers


def _lead_outcomes(
    leads: LazyFrame, opportunities: LazyFrame, *, cutoff: datetime, tz: str
) -> LazyFrame:
    """Leads created by ``cutoff`` with ``campaign_id``, ``owner_id``, ``created_at``,
    ``_sql`` and ``_won`` (0/1) and ``won_amount`` (sum over its won opportunities)."""
    leads = complete(
        leads, "leads", ("lead_id", "created_at", "campaign_id"), {"owner_id": nw.String()}
    )
    opportunities = complete(opportunities, "opportunities", ("created_at",), OPPORTUNITY_OPTIONAL)
    leads = _compat.to_local_naive(leads, ["created_at"], tz=tz, table="leads")
    opportunities = _compat.to_local_naive(
        opportunities, ["created_at", "validated_at", "closed_at"], tz=tz, table="opportunities"
    )
    per_lead = opportunity_summary(as_of_opportunities(opportunities, cutoff), cutoff=cutoff)
    return (
        leads.filter(nw.col("created_at") < cutoff)
        .join(per_lead, on="lead_id", how="left")
        .select(
            nw.col("campaign_id").cast(nw.String()),
            nw.col("owner_id").cast(nw.String()),
            nw.col("created_at"),
            (~nw.col("sql_at").is_null()).cast(INT).alias("_sql"),
            (~nw.col("won_at").is_null()).cast(INT).alias("_won"),
            nw.col("won_amount").cast(FLOAT).fill_null(0.0),
        )
    )


def _counts(outcomes: LazyFrame, keys: list[str]) -> LazyFrame:
    """``lead_count``, ``sql_count``, ``won_count``, ``won_amount`` per ``keys``."""
    return outcomes.group_by(*keys).agg(
        nw.len().alias("lead_count"),
        nw.col("_sql").sum().alias("sql_count"),
        nw.col("_won").sum().alias("won_count"),
        nw.col("won_amount").sum(),
    )


def _cast_counts(*extra: str) -> list[nw.Expr]:
    return [
        *[nw.col(c).fill_null(0).cast(INT) for c in (*_COUNTS, *extra)],
        nw.col("won_amount").fill_null(0.0).cast(FLOAT),
    ]


def _performance(
    leads: LazyFrame,
    opportunities: LazyFrame,
    campaigns: LazyFrame | None,
    *,
    freq: Freq | None,
    cutoff: datetime,
    tz: str,
) -> LazyFrame:
    """Per ``_campaign`` (null-safe) and period: the counts, zeros filled (no rates).

    Rows: every campaign of the leads and of ``campaigns`` x every period with leads.
    """
    keys = period_keys(freq)
    outcomes = with_period(
        _lead_outcomes(leads, opportunities, cutoff=cutoff, tz=tz), "created_at", freq
    ).with_columns(null_safe("campaign_id", "_campaign"))
    ids = outcomes.select("_campaign")
    if campaigns is not None:
        listed = complete(campaigns, "campaigns", ("campaign_id",), {})
        ids = nw.concat(
            [
                ids,
                listed.filter(~nw.col("campaign_id").is_null()).select(
                    null_safe("campaign_id", "_campaign")
                ),
            ],
            how="vertical",
        )
    grid = ids.unique()
    if freq is not None:
        grid = grid.join(outcomes.select("period").unique(), how="cross")
    return grid.join(_counts(outcomes, ["_campaign", *keys]), on=["_campaign", *keys], how="left")


def _cvr(zero_division: ZeroDivision, confidence: float) -> list[nw.Expr]:
    """``numerator`` = SQL leads, ``denominator`` = leads, and the rate columns."""
    return [
        nw.col("sql_count").alias("numerator"),
        nw.col("lead_count").alias("denominator"),
        *rate_columns(
            "sql_count", "lead_count", zero_division=zero_division, confidence=confidence
        ),
    ]


def _enter_campaigns(
    leads: Any, opportunities: Any, campaigns: Any, *, function: str
) -> tuple[LazyFrame, LazyFrame, LazyFrame | None, _compat.Session]:
    natives = [leads, opportunities] + ([] if campaigns is None else [campaigns])
    frames, session = _compat.enter(natives, function=function)
    return frames[0], frames[1], frames[2] if campaigns is not None else None, session


# ------------------------------------------------------------ public functions


@former_table_order("leads", "opportunities", "campaigns")
def campaign_performance(
    leads: FrameT,
    opportunities: Any,
    *,
    campaigns: Any = None,
    freq: Freq | None = None,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
) -> FrameT:
    """Leads, SQLs, wins, won amount and lead -> SQL CVR per campaign.

    Parameters
    ----------
    leads, opportunities
        Canonical tables (any supported frame library, the same one).
    campaigns
        Optional canonical campaigns table: every campaign listed appears, also one
        without leads (with zero counts and a zero-denominator rate).
    freq
        ``None`` (default) or ``"day"``, ``"week"``, ``"month"``, ``"quarter"``,
        ``"year"`` (the yearly view): lead cohorts by ``created_at`` period. Every
        campaign gets a row for every period that has leads.
    as_of
        Count rows up to the end of this day.
    tz
        Dataset time zone.
    zero_division
        CVR of a campaign (or period) with no leads: ``"nan"`` (default), ``"0"`` or
        ``"raise"``.
    confidence
        Level of the Wilson interval (default 0.95).

    Returns
    -------
    Frame of the caller's kind sorted by ``campaign_id`` (null last) and ``period``:
    ``campaign_id``, (``period``), ``lead_count``, ``sql_count`` (leads with an
    opportunity), ``won_count`` (leads with a won opportunity), ``won_amount``,
    ``numerator`` (= ``sql_count``), ``denominator`` (= ``lead_count``), ``rate``,
    ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "campaign_id": ["C1", "C1", None],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02", "2025-04-03"])})
    >>> opps = pd.DataFrame({"lead_id": ["L1"], "created_at": pd.to_datetime(["2025-04-05"]),
    ...     "is_won": [True], "closed_at": pd.to_datetime(["2025-04-20"]), "amount": [1e6]})
    >>> camps = pd.DataFrame({"campaign_id": ["C1", "C2"]})
    >>> out = campaign_performance(leads, opps, campaigns=camps, as_of="2025-04-30")
    >>> out[["campaign_id", "lead_count", "sql_count", "won_amount", "rate"]]
      campaign_id  lead_count  sql_count  won_amount  rate
    0          C1           2          1   1000000.0   0.5
    1          C2           0          0         0.0   NaN
    2         NaN           1          0         0.0   0.0
    """
    freq, zero_division, cutoff = check_options(freq, zero_division, as_of)
    confidence = check_confidence(confidence)
    lf_leads, lf_opps, lf_campaigns, session = _enter_campaigns(
        leads, opportunities, campaigns, function="campaign_performance"
    )
    keys = period_keys(freq)
    result = (
        _performance(lf_leads, lf_opps, lf_campaigns, freq=freq, cutoff=cutoff, tz=tz)
        .with_columns(*_cast_counts())
        .select(
            restore_null("_campaign", "campaign_id"),
            *keys,
            *_COUNTS,
            "won_amount",
            *_cvr(zero_division, confidence),
        )
        .sort(["campaign_id", *keys], nulls_last=True)
    )
    check_raise(result, zero_division, "campaign_performance")
    return session.finish(result)  # type: ignore[no-any-return]


def campaign_member_cvr(
    leads: FrameT,
    opportunities: Any,
    *,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
) -> FrameT:
    """Lead -> SQL CVR by campaign x IS owner, the campaign's average and the lift.

    Parameters
    ----------
    leads, opportunities
        Canonical tables (any supported frame library, the same one); the IS owner
        is ``leads.owner_id``.
    as_of
        Count rows up to the end of this day.
    tz
        Dataset time zone.
    zero_division
        Rate when the denominator is 0: ``"nan"`` (default), ``"0"`` or ``"raise"``.
    confidence
        Level of the Wilson interval (default 0.95).

    Returns
    -------
    Frame of the caller's kind, one row per (``campaign_id``, ``owner_id``) with
    leads (nulls form their own groups, sorted last): ``lead_count``, ``sql_count``,
    ``numerator``, ``denominator``, ``rate``, ``ci_low``, ``ci_high`` (the member's
    CVR), ``campaign_lead_count``, ``campaign_sql_count``, ``campaign_rate`` (the
    campaign's pooled CVR over all its leads: the campaign average) and ``lift`` =
    ``rate / campaign_rate`` (null when the campaign rate is 0 or missing).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"],
    ...     "campaign_id": ["C1"] * 4, "owner_id": ["R1", "R1", "R2", "R2"],
    ...     "created_at": pd.to_datetime(["2025-04-01"] * 4)})
    >>> opps = pd.DataFrame({"lead_id": ["L1", "L2", "L3"],
    ...                      "created_at": pd.to_datetime(["2025-04-05"] * 3)})
    >>> campaign_member_cvr(leads, opps, as_of="2025-04-30")[
    ...     ["campaign_id", "owner_id", "rate", "campaign_rate", "lift"]]
      campaign_id owner_id  rate  campaign_rate      lift
    0          C1       R1   1.0           0.75  1.333333
    1          C1       R2   0.5           0.75  0.666667
    """
    _, zero_division, cutoff = check_options(None, zero_division, as_of)
    confidence = check_confidence(confidence)
    lf_leads, lf_opps, _, session = _enter_campaigns(
        leads, opportunities, None, function="campaign_member_cvr"
    )
    outcomes = _lead_outcomes(lf_leads, lf_opps, cutoff=cutoff, tz=tz)
    per_member = _counts(outcomes, ["campaign_id", "owner_id"])
    result = (
        per_member.with_columns(
            nw.col("lead_count").sum().over("campaign_id").alias("campaign_lead_count"),
            nw.col("sql_count").sum().over("campaign_id").alias("campaign_sql_count"),
        )
        .with_columns(*_cast_counts("campaign_lead_count", "campaign_sql_count"))
        .with_columns(
            *_cvr(zero_division, confidence),
            *rate_columns(
                "campaign_sql_count",
                "campaign_lead_count",
                zero_division=zero_division,
                confidence=confidence,
                prefix="campaign_",
            ),
        )
        .with_columns(
            nw.when(nw.col("campaign_rate") > 0)
            .then(nw.col("rate") / nw.col("campaign_rate"))
            .cast(FLOAT)
            .alias("lift")
        )
        .select(
            "campaign_id",
            "owner_id",
            "lead_count",
            "sql_count",
            "numerator",
            "denominator",
            "rate",
            "ci_low",
            "ci_high",
            "campaign_lead_count",
            "campaign_sql_count",
            "campaign_rate",
            "lift",
        )
        .sort(["campaign_id", "owner_id"], nulls_last=True)
    )
    check_raise(result, zero_division, "campaign_member_cvr")
    return session.finish(result)  # type: ignore[no-any-return]


def _check_fraction(value: object, name: str, *, low_open: bool) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    number = float(value) if ok else math.nan  # type: ignore[arg-type]
    inside = (0.0 < number < 1.0) if low_open else (0.0 <= number <= 1.0)
    if not inside:
        bounds = "strictly between 0 and 1" if low_open else "between 0 and 1"
        raise ConfigError(f"{name} must be {bounds}; got {value!r}")
    return number


@former_table_order("leads", "opportunities", "campaigns")
def campaign_alerts(
    leads: FrameT,
    opportunities: Any,
    *,
    campaigns: Any = None,
    freq: Freq = "month",
    alpha: float = 0.05,
    min_effect: float = 0.05,
    as_of: date | datetime | str,
    tz: str = "Asia/Tokyo",
    zero_division: ZeroDivision = "nan",
    confidence: float = 0.95,
) -> FrameT:
    """Period-over-period change of each campaign's CVR, flagged when significant.

    Each period is compared with the previous period that has leads in the data (the
    rows of :func:`campaign_performance` with the same ``freq``). A row is an
    ``alert`` when the pooled two-proportion z-test is significant at ``alpha``
    (two-sided: ``|z| > z_{1 - alpha/2}``, equivalently ``p_value < alpha``) **and**
    the absolute change of the CVR is at least ``min_effect``.

    Parameters
    ----------
    leads, opportunities, campaigns
        As in :func:`campaign_performance`.
    freq
        ``"month"`` (default), ``"year"`` for the yearly view, or ``"day"``,
        ``"week"``, ``"quarter"``.
    alpha
        Significance level of the test, strictly between 0 and 1 (default 0.05).
    min_effect
        Minimum absolute change of the CVR (default 0.05 = 5 points), 0 to 1.
    as_of
        Count rows up to the end of this day.
    tz
        Dataset time zone.
    zero_division
        ``rate`` / ``previous_rate`` of a period without leads: ``"nan"`` (default),
        ``"0"`` or ``"raise"``. Such periods never alert.
    confidence
        Level of the Wilson interval (default 0.95).

    Returns
    -------
    Frame of the caller's kind, one row per campaign and period after its first:
    ``campaign_id``, ``period``, ``previous_period``, ``previous_numerator``,
    ``previous_denominator``, ``previous_rate``, ``numerator``, ``denominator``,
    ``rate``, ``ci_low``, ``ci_high``, ``change`` (rate - previous rate; null when a
    period has no leads), ``z``, ``p_value`` (null when the test is undefined) and
    ``alert`` (Boolean).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(200)],
    ...     "campaign_id": ["C1"] * 200,
    ...     "created_at": pd.to_datetime(["2025-03-10"] * 100 + ["2025-04-10"] * 100)})
    >>> converted = [f"L{i}" for i in range(10)] + [f"L{i}" for i in range(100, 125)]
    >>> opps = pd.DataFrame({"lead_id": converted,
    ...                      "created_at": pd.to_datetime(["2025-04-20"] * 35)})
    >>> out = campaign_alerts(leads, opps, as_of="2025-04-30")
    >>> out[["campaign_id", "previous_rate", "rate", "z", "alert"]].round(4)
      campaign_id  previous_rate  rate       z  alert
    0          C1            0.1  0.25  2.7915   True
    """
    check_freq(freq)
    _check_fraction(alpha, "alpha", low_open=True)
    _check_fraction(min_effect, "min_effect", low_open=False)
    _, zero_division, cutoff = check_options(freq, zero_division, as_of)
    confidence = check_confidence(confidence)
    lf_leads, lf_opps, lf_campaigns, session = _enter_campaigns(
        leads, opportunities, campaigns, function="campaign_alerts"
    )
    perf = _performance(lf_leads, lf_opps, lf_campaigns, freq=freq, cutoff=cutoff, tz=tz)
    perf = perf.with_columns(*_cast_counts())

    def previous(column: str) -> nw.Expr:
        return nw.col(column).shift(1).over("_campaign", order_by="period")

    n1, x1 = nw.col("previous_denominator"), nw.col("previous_numerator")
    n2, x2 = nw.col("denominator"), nw.col("numerator")
    both = (n1 > 0) & (n2 > 0)
    p1 = x1.cast(FLOAT) / n1.cast(FLOAT)
    p2 = x2.cast(FLOAT) / n2.cast(FLOAT)
    pooled = (x1 + x2).cast(FLOAT) / (n1 + n2).cast(FLOAT)
    variance = pooled * (1.0 - pooled) * (1.0 / n1.cast(FLOAT) + 1.0 / n2.cast(FLOAT))
    defined = both & (variance > 0)
    critical = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    z = nw.col("z")
    result = (
        perf.with_columns(*_cvr(zero_division, confidence))
        .with_columns(
            previous("period").alias("previous_period"),
            previous("numerator").alias("previous_numerator"),
            previous("denominator").alias("previous_denominator"),
        )
        .filter(~nw.col("previous_period").is_null())
        .with_columns(
            *rate_columns(
                "previous_numerator",
                "previous_denominator",
                zero_division=zero_division,
                confidence=confidence,
                prefix="previous_",
            ),
            nw.when(both).then(p2 - p1).cast(FLOAT).alias("change"),
            nw.when(defined).then((p2 - p1) / variance.sqrt()).cast(FLOAT).alias("z"),
        )
        .with_columns(
            _two_sided_p(z).cast(FLOAT).alias("p_value"),
            ((z.abs() > critical) & (nw.col("change").abs() >= min_effect - 1e-12))
            .fill_null(value=False)
            .cast(nw.Boolean())
            .alias("alert"),
        )
        .select(
            restore_null("_campaign", "campaign_id"),
            "period",
            nw.col("previous_period").cast(nw.Datetime("us")),
            nw.col("previous_numerator").cast(INT),
            nw.col("previous_denominator").cast(INT),
            "previous_rate",
            nw.col("numerator").cast(INT),
            nw.col("denominator").cast(INT),
            "rate",
            "ci_low",
            "ci_high",
            "change",
            "z",
            "p_value",
            "alert",
        )
        .sort(["campaign_id", "period"], nulls_last=True)
    )
    if zero_division == "raise":
        check_raise(
            result.select(
                nw.min_horizontal("denominator", "previous_denominator").alias("denominator")
            ),
            zero_division,
            "campaign_alerts",
        )
    return session.finish(result)  # type: ignore[no-any-return]


#: How the report shows leads without a campaign.
NO_CAMPAIGN = "(no campaign)"
