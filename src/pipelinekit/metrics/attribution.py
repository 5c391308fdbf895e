"""Multi-touch campaign attribution of opportunities (DESIGN section 8).

Every opportunity with a lead, created before the cut-off C (the end of the ``as_of``
day, dataset time zone), is attributed on its own:

- **Touches**: the lead's campaign responses (``campaign_members``), one per
  campaign (its earliest ``responded_at``), with ``responded_at`` in
  [opportunity ``created_at`` - ``lookback`` days, ``created_at``], both ends
  included (default 90 days; ``lookback=None``: no lower limit), ordered by
  (``responded_at``, ``campaign_id``). Responses after the opportunity's creation
  are not touches of it. Without a ``campaign_members`` table the lead's own
  ``campaign_id`` is its one touch, at the lead's ``created_at`` (the same window
  applies).
- **Roles**: first touch; last touch (the opportunity-creation touch); the
  lead-creation touch = the last touch with ``responded_at`` <= the lead's
  ``created_at`` (may not exist).
- **Models** (weights of one opportunity's touches; they sum to 1):

  ==============  ==================================================================
  ``first``       1 to the first touch
  ``last``        1 to the last touch
  ``linear``      1/k to each of the k touches
  ``u_shaped``    position-based: 2/5 first, 2/5 last, 1/5 shared by the middle
                  touches; 1 touch: 1; 2 touches: 1/2 each
  ``w_shaped``    key touches M = distinct of {first, lead creation, last}, the rest
                  R: R empty -> 1/|M| each; else 9/(10|M|) each key touch and
                  1/(10|R|) each other touch (a touch in two roles is one key touch:
                  no role stacking)
  ``time_decay``  proportional to 2^(-age / half_life), age = fractional days from
                  the response to the opportunity's creation (default half-life 7)
  ==============  ==================================================================

  One touch gets full credit under every model. Weights are exact fractions
  (``weight_numerator`` / ``weight_denominator``, integers) except time decay. Ages
  and the window are measured on instants.
- **Credit**: each opportunity counts 1 (and its ``amount``, missing = 0) as an
  SQL, a valid opportunity (``validated_at`` before C) and a win (``is_won`` with
  ``closed_at`` before C), split by the weights. An opportunity without any touch is
  *unattributed*: it is reported on rows with a null ``campaign_id`` and full
  credit, so the credit of a model summed over its rows is the SQL count.

Exactness: per opportunity the integer numerators add up to the denominator. A
campaign's count credit under an exact model is a sum of fractions computed exactly
(integer numerators summed per denominator on the engine, then ``Fraction``
arithmetic) and rounded once; amount credits are sums of amount x numerator per
denominator (exact for whole amounts) divided once, added with ``math.fsum``. The
per-campaign sums are finished in Python at call time (one small table per call), so
every engine and every run gives the same numbers.

Examples
--------
>>> import pandas as pd
>>> leads = pd.DataFrame({"lead_id": ["L1"], "created_at": pd.to_datetime(["2025-04-10"])})
>>> opps = pd.DataFrame({"opportunity_id": ["O1"], "lead_id": ["L1"],
...     "created_at": pd.to_datetime(["2025-05-01"]), "amount": [900.0]})
>>> members = pd.DataFrame({"lead_id": ["L1"] * 3, "campaign_id": ["C1", "C2", "C3"],
...     "responded_at": pd.to_datetime(["2025-04-01", "2025-04-10", "2025-04-20"])})
>>> w = opportunity_attribution(leads, opps, campaign_members=members, as_of="2025-05-31",
...                             models=["u_shaped", "w_shaped"])
>>> w[["model", "campaign_id", "weight_numerator", "weight_denominator"]]
      model campaign_id  weight_numerator  weight_denominator
0  u_shaped          C1                 2                   5
1  u_shaped          C2                 1                   5
2  u_shaped          C3                 2                   5
3  w_shaped          C1                 1                   3
4  w_shaped          C2                 1                   3
5  w_shaped          C3                 1                   3
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from typing import Any, Literal, TypeVar, get_args

import narwhals as nw

from pipelinekit import _compat
from pipelinekit._checks import check_by, check_choice, check_optional_freq, check_positive_int
from pipelinekit._exprs import flag, require_columns
from pipelinekit.errors import ConfigError
from pipelinekit.instants import DAY_US, with_instants
from pipelinekit.periods import as_of_cutoff, period_start
from pipelinekit.types import DEFAULT_TZ, AsOf, By, Freq

__all__ = ["MODELS", "campaign_attribution", "opportunity_attribution"]

FrameT = TypeVar("FrameT")

Model = Literal["first", "last", "linear", "u_shaped", "w_shaped", "time_decay"]
#: The attribution models, in report order.
MODELS: tuple[str, ...] = get_args(Model)

RESERVED = (
    "period",
    "campaign_id",
    "model",
    "opportunity_id",
    "touch_count",
    "opportunity_count",
    "sql_credit",
    "sql_amount_credit",
    "valid_credit",
    "valid_amount_credit",
    "won_credit",
    "won_amount_credit",
)
_PERIOD_COLUMNS = ("created_at", "validated_at", "closed_at")
_MEASURES = ("sql", "valid", "won")
_LN2 = math.log(2.0)


def _check_models(models: object) -> tuple[str, ...]:
    names = (models,) if isinstance(models, str) else models
    if not isinstance(names, Sequence) or not names:
        raise ConfigError(f"models must be one or more of {', '.join(MODELS)}; got {models!r}")
    chosen = tuple(check_choice("models", m, MODELS) for m in names)
    if len(set(chosen)) != len(chosen):
        raise ConfigError(f"models must not repeat a model; got {list(chosen)}")
    return chosen


def _check_half_life(half_life: object) -> float:
    ok = isinstance(half_life, (int, float)) and not isinstance(half_life, bool)
    if not ok or not (0 < float(half_life) < math.inf):  # type: ignore[arg-type]
        raise ConfigError(f"half_life must be a positive number of days; got {half_life!r}")
    return float(half_life)  # type: ignore[arg-type]


def _check_lookback(lookback: object) -> int | None:
    return None if lookback is None else check_positive_int("lookback", lookback)


def _weights(
    leads: nw.LazyFrame[Any],
    opportunities: nw.LazyFrame[Any],
    members: nw.LazyFrame[Any] | None,
    *,
    cutoff: datetime,
    lookback: int | None,
    half_life: float,
    models: Sequence[str],
    extra: Sequence[nw.Expr],
    extra_names: Sequence[str],
    tz: str,
) -> nw.LazyFrame[Any]:
    """One row per (opportunity, touched campaign, model), plus one per model for each
    unattributed opportunity (null campaign): the weight and the opportunity's flags."""
    require_columns(leads, "leads", ("lead_id", "created_at"))
    require_columns(opportunities, "opportunities", ("opportunity_id", "lead_id", "created_at"))
    leads = _compat.to_local_naive(leads, ["created_at"], tz=tz, table="leads")
    names = opportunities.collect_schema().names()
    stamps = [c for c in ("created_at", "validated_at", "closed_at") if c in names]
    opportunities = _compat.to_local_naive(opportunities, stamps, tz=tz, table="opportunities")
    validated = (
        (nw.col("validated_at") < cutoff).fill_null(value=False)
        if "validated_at" in names
        else nw.lit(value=False)
    )
    won = (
        (nw.col("closed_at") < cutoff).fill_null(value=False)
        & nw.col("is_won").fill_null(value=False)
        if "closed_at" in names and "is_won" in names
        else nw.lit(value=False)
    )
    amount = nw.col("amount").cast(nw.Float64).fill_null(0.0) if "amount" in names else nw.lit(0.0)
    opps = opportunities.filter(
        ~nw.col("lead_id").is_null() & (nw.col("created_at") < cutoff)
    ).select(
        nw.col("opportunity_id").cast(nw.String),
        nw.col("lead_id").cast(nw.String),
        nw.col("created_at").alias("__pk_opp_at"),
        amount.cast(nw.Float64).alias("__pk_amount"),
        flag(validated).alias("__pk_valid"),
        flag(won).alias("__pk_won"),
        *extra,
    )
    lead_times = leads.filter(~nw.col("lead_id").is_null()).select(
        nw.col("lead_id").cast(nw.String), nw.col("created_at").alias("__pk_lead_at")
    )
    if members is not None:
        require_columns(members, "campaign_members", ("lead_id", "campaign_id", "responded_at"))
        members = _compat.to_local_naive(members, ["responded_at"], tz=tz, table="campaign_members")
        responses = (
            members.filter(
                ~nw.col("lead_id").is_null()
                & ~nw.col("campaign_id").is_null()
                & ~nw.col("responded_at").is_null()
            )
            .select(
                nw.col("lead_id").cast(nw.String),
                nw.col("campaign_id").cast(nw.String),
                nw.col("responded_at").cast(nw.Datetime("us")).alias("__pk_resp_at"),
            )
            .group_by("lead_id", "campaign_id")
            .agg(nw.col("__pk_resp_at").min())
        )
    else:
        require_columns(leads, "leads", ("campaign_id",))
        responses = leads.filter(
            ~nw.col("lead_id").is_null() & ~nw.col("campaign_id").is_null()
        ).select(
            nw.col("lead_id").cast(nw.String),
            nw.col("campaign_id").cast(nw.String),
            nw.col("created_at").cast(nw.Datetime("us")).alias("__pk_resp_at"),
        )
    joined = opps.join(lead_times.unique(["lead_id"]), on="lead_id", how="left").join(
        responses, on="lead_id", how="left"
    )
    joined = with_instants(
        joined,
        {
            "__pk_opp_at": "__pk_opp_us",
            "__pk_resp_at": "__pk_resp_us",
            "__pk_lead_at": "__pk_lead_us",
        },
        tz=tz,
        last_year=cutoff.year,
    )
    inside = ~nw.col("__pk_resp_us").is_null() & (nw.col("__pk_resp_us") <= nw.col("__pk_opp_us"))
    if lookback is not None:
        inside = inside & (nw.col("__pk_resp_us") >= nw.col("__pk_opp_us") - lookback * DAY_US)
    touches = joined.filter(inside).with_columns(nw.lit(1).cast(nw.Int64).alias("__pk_one"))
    order = ["__pk_resp_us", "campaign_id"]
    touches = touches.with_columns(
        nw.col("__pk_one").cum_sum().over("opportunity_id", order_by=order).alias("position"),
        nw.col("__pk_one").sum().over("opportunity_id").alias("touch_count"),
        ((nw.col("__pk_opp_us") - nw.col("__pk_resp_us")).cast(nw.Float64) / float(DAY_US)).alias(
            "__pk_age"
        ),
    )
    pos, k = nw.col("position"), nw.col("touch_count")
    lead_creation = (nw.col("__pk_resp_us") <= nw.col("__pk_lead_us")).fill_null(value=False)
    touches = touches.with_columns(nw.when(lead_creation).then(pos).alias("__pk_lc_candidate"))
    touches = touches.with_columns(
        nw.col("__pk_lc_candidate").max().over("opportunity_id").alias("__pk_lc"),
        nw.col("__pk_age").min().over("opportunity_id").alias("__pk_age_min"),
    )
    lc = nw.col("__pk_lc")
    middle_lc = (~lc.is_null() & (lc != 1) & (lc != k)).fill_null(value=False)
    touches = touches.with_columns(
        (1 + flag(k > 1) + flag(middle_lc)).cast(nw.Int64).alias("__pk_m"),
        ((pos == 1) | (pos == k) | (pos == lc).fill_null(value=False)).alias("__pk_key"),
        (-_LN2 * (nw.col("__pk_age") - nw.col("__pk_age_min")) / half_life)
        .exp()
        .alias("__pk_decay"),
    ).with_columns(
        (k - nw.col("__pk_m")).cast(nw.Int64).alias("__pk_r"),
        nw.col("__pk_decay").sum().over("opportunity_id").alias("__pk_decay_sum"),
    )
    keep = [
        "opportunity_id",
        "lead_id",
        "campaign_id",
        "__pk_resp_at",
        "position",
        "touch_count",
        "__pk_amount",
        "__pk_valid",
        "__pk_won",
        *extra_names,
    ]
    typed = {
        "opportunity_id": nw.String(),
        "lead_id": nw.String(),
        "campaign_id": nw.String(),
        "__pk_resp_at": nw.Datetime("us"),
        "position": nw.Int64(),
        "touch_count": nw.Int64(),
        "__pk_amount": nw.Float64(),
        "__pk_valid": nw.Int64(),
        "__pk_won": nw.Int64(),
    }
    parts = [
        touches.select(
            *[nw.col(c).cast(typed[c]) if c in typed else nw.col(c) for c in keep],
            nw.lit(model).cast(nw.String).alias("model"),
            *_model_weight(model),
        )
        for model in models
    ]
    touched = touches.select("opportunity_id").unique()
    bare = opps.join(touched, on="opportunity_id", how="anti")
    unattributed = [
        bare.select(
            nw.col("opportunity_id"),
            nw.col("lead_id"),
            nw.lit(None).cast(nw.String).alias("campaign_id"),
            nw.lit(None).cast(nw.Datetime("us")).alias("__pk_resp_at"),
            nw.lit(None).cast(nw.Int64).alias("position"),
            nw.lit(0).cast(nw.Int64).alias("touch_count"),
            *[
                nw.col(c).cast(typed[c]) if c in typed else nw.col(c)
                for c in ("__pk_amount", "__pk_valid", "__pk_won", *extra_names)
            ],
            nw.lit(model).cast(nw.String).alias("model"),
            nw.lit(1).cast(nw.Int64).alias("weight_numerator"),
            nw.lit(1).cast(nw.Int64).alias("weight_denominator"),
            nw.lit(1.0).cast(nw.Float64).alias("weight"),
        )
        for model in models
    ]
    return nw.concat([*parts, *unattributed], how="vertical")


def _model_weight(model: str) -> list[nw.Expr]:
    """``weight_numerator``, ``weight_denominator`` (null for time decay) and ``weight``."""
    pos, k = nw.col("position"), nw.col("touch_count")
    m, r, key = nw.col("__pk_m"), nw.col("__pk_r"), nw.col("__pk_key")
    if model == "time_decay":
        weight = nw.col("__pk_decay") / nw.col("__pk_decay_sum")
        return [
            nw.lit(None).cast(nw.Int64).alias("weight_numerator"),
            nw.lit(None).cast(nw.Int64).alias("weight_denominator"),
            weight.cast(nw.Float64).alias("weight"),
        ]
    if model == "first":
        num, den = flag(pos == 1), nw.lit(1)
    elif model == "last":
        num, den = flag(pos == k), nw.lit(1)
    elif model == "linear":
        num, den = nw.lit(1), k
    elif model == "u_shaped":
        ends = (pos == 1) | (pos == k)
        num = nw.when(k <= 2).then(nw.lit(1)).when(ends).then(2 * (k - 2)).otherwise(nw.lit(1))
        den = nw.when(k == 1).then(nw.lit(1)).when(k == 2).then(nw.lit(2)).otherwise(5 * (k - 2))
    else:  # w_shaped
        num = nw.when(r == 0).then(nw.lit(1)).when(key).then(9 * r).otherwise(m)
        den = nw.when(r == 0).then(m).otherwise(10 * m * r)
    numerator = num.cast(nw.Int64)
    denominator = den.cast(nw.Int64)
    return [
        numerator.alias("weight_numerator"),
        denominator.alias("weight_denominator"),
        (numerator.cast(nw.Float64) / denominator.cast(nw.Float64)).alias("weight"),
    ]


def _enter(
    function: str, leads: Any, opportunities: Any, campaign_members: Any
) -> tuple[_compat.Session, nw.LazyFrame[Any], nw.LazyFrame[Any], nw.LazyFrame[Any] | None]:
    natives = [leads, opportunities, *([] if campaign_members is None else [campaign_members])]
    lazies, session = _compat.enter(natives, function=function)
    members = lazies[2] if campaign_members is not None else None
    return session, lazies[0], lazies[1], members


def opportunity_attribution(
    leads: FrameT,
    opportunities: Any,
    *,
    campaign_members: Any = None,
    as_of: AsOf,
    lookback: int | None = 90,
    half_life: float = 7,
    models: Sequence[Model] = MODELS,  # type: ignore[assignment]
    tz: str = DEFAULT_TZ,
) -> FrameT:
    """Each opportunity's campaign touches and their weight per model (アトリビューション明細).

    The drill-down of :func:`campaign_attribution`; see the module documentation for
    the touches, roles and models.

    Parameters
    ----------
    leads, opportunities
        Canonical tables (same frame library). Leads need ``lead_id``,
        ``created_at`` (and ``campaign_id`` without ``campaign_members``);
        opportunities ``opportunity_id``, ``lead_id``, ``created_at``.
    campaign_members
        Optional campaign responses (``lead_id``, ``campaign_id``, ``responded_at``);
        without it each lead's ``campaign_id`` is its one touch.
    as_of
        Required: opportunities created on or after the next midnight are left out.
    lookback
        Days before the opportunity's creation a response still counts (default 90);
        ``None``: any earlier response.
    half_life
        Half-life in days of the time-decay model (default 7).
    models
        The models to compute (default all six).
    tz
        Dataset time zone.

    Returns
    -------
    Frame of the caller's kind, one row per (model, opportunity, touched campaign):
    ``model``, ``opportunity_id``, ``lead_id``, ``campaign_id`` (null: the
    opportunity had no touch, full credit), ``responded_at``, ``position`` (1 = first
    touch), ``touch_count``, ``weight_numerator``, ``weight_denominator`` (integers,
    not reduced; null for time decay), ``weight``; sorted by model, opportunity and
    position.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1", "L2"], "campaign_id": ["C1", None],
    ...     "created_at": pd.to_datetime(["2025-04-01", "2025-04-02"])})
    >>> opps = pd.DataFrame({"opportunity_id": ["O1", "O2"], "lead_id": ["L1", "L2"],
    ...     "created_at": pd.to_datetime(["2025-04-20", "2025-04-21"])})
    >>> opportunity_attribution(leads, opps, as_of="2025-04-30", models="linear")[
    ...     ["opportunity_id", "campaign_id", "weight"]]
      opportunity_id campaign_id  weight
    0             O1          C1     1.0
    1             O2         NaN     1.0
    """
    chosen = _check_models(models)
    days = _check_lookback(lookback)
    decay = _check_half_life(half_life)
    cutoff = as_of_cutoff(as_of)
    session, lf_leads, lf_opps, members = _enter(
        "opportunity_attribution", leads, opportunities, campaign_members
    )
    rows = _weights(
        lf_leads,
        lf_opps,
        members,
        cutoff=cutoff,
        lookback=days,
        half_life=decay,
        models=chosen,
        extra=(),
        extra_names=(),
        tz=tz,
    )
    order = _model_order(chosen)
    result = (
        rows.with_columns(order.alias("__pk_model"))
        .sort(["__pk_model", "opportunity_id", "position"], nulls_last=True)
        .select(
            nw.col("model"),
            nw.col("opportunity_id"),
            nw.col("lead_id"),
            nw.col("campaign_id"),
            nw.col("__pk_resp_at").alias("responded_at"),
            nw.col("position").cast(nw.Int64),
            nw.col("touch_count").cast(nw.Int64),
            nw.col("weight_numerator"),
            nw.col("weight_denominator"),
            nw.col("weight"),
        )
    )
    return session.finish(result)  # type: ignore[no-any-return]


def _model_order(models: Sequence[str]) -> nw.Expr:
    out: Any = None
    for i, model in enumerate(models):
        out = (nw.when if out is None else out.when)(nw.col("model") == model).then(nw.lit(i))
    result: nw.Expr = out.cast(nw.Int64)
    return result


def campaign_attribution(
    leads: FrameT,
    opportunities: Any,
    *,
    campaign_members: Any = None,
    as_of: AsOf,
    lookback: int | None = 90,
    half_life: float = 7,
    models: Sequence[Model] = MODELS,  # type: ignore[assignment]
    by: By = (),
    freq: Freq | None = None,
    period_column: str = "created_at",
    tz: str = DEFAULT_TZ,
) -> FrameT:
    """Credit of every campaign for SQLs, valid opportunities and wins, per model
    (キャンペーン貢献度).

    See the module documentation for the touches, roles, models and exactness.

    Parameters
    ----------
    leads, opportunities, campaign_members, as_of, lookback, half_life, models, tz
        As in :func:`opportunity_attribution`; opportunities may also carry
        ``validated_at``, ``closed_at``, ``is_won`` and ``amount`` (absent: no valid
        or won credit, amount 0).
    by
        Opportunity columns to split by (``product``, ``owner_id``, ...).
    freq
        Period of ``period_column`` to split by (``None``: no period column). For
        "this quarter's won amount" use ``freq="quarter"`` with
        ``period_column="closed_at"`` (a close on or after the cut-off counts as
        no close: null period).
    period_column
        ``"created_at"`` (default), ``"validated_at"`` or ``"closed_at"``.

    Returns
    -------
    Frame of the caller's kind, one row per (``by`` group, period, model, campaign):
    the ``by`` columns, ``period`` (only with ``freq``), ``model``, ``campaign_id``
    (null: unattributed opportunities), ``opportunity_count`` (opportunities the
    campaign touched; unattributed: their number), ``sql_credit``,
    ``sql_amount_credit``, ``valid_credit``, ``valid_amount_credit``, ``won_credit``,
    ``won_amount_credit``; per model the credits over all rows (unattributed
    included) add up to the SQL count, valid count, win count and their amounts.
    Sorted by groups, period, model (in ``models`` order) and campaign (unattributed
    last).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["L1"], "created_at": pd.to_datetime(["2025-04-10"])})
    >>> opps = pd.DataFrame({"opportunity_id": ["O1"], "lead_id": ["L1"],
    ...     "created_at": pd.to_datetime(["2025-05-01"]), "amount": [900.0],
    ...     "closed_at": pd.to_datetime(["2025-05-20"]), "is_won": [True]})
    >>> members = pd.DataFrame({"lead_id": ["L1", "L1"], "campaign_id": ["C1", "C2"],
    ...     "responded_at": pd.to_datetime(["2025-04-01", "2025-04-20"])})
    >>> credit = campaign_attribution(leads, opps, campaign_members=members,
    ...     as_of="2025-05-31", models=["first", "linear"])
    >>> credit[["model", "campaign_id", "sql_credit", "won_amount_credit"]]
        model campaign_id  sql_credit  won_amount_credit
    0   first          C1         1.0              900.0
    1   first          C2         0.0                0.0
    2  linear          C1         0.5              450.0
    3  linear          C2         0.5              450.0
    """
    chosen = _check_models(models)
    days = _check_lookback(lookback)
    decay = _check_half_life(half_life)
    keys = check_by("by", by, reserved=RESERVED)
    period = check_optional_freq(freq)
    column = check_choice("period_column", period_column, _PERIOD_COLUMNS)
    cutoff = as_of_cutoff(as_of)
    session, lf_leads, lf_opps, members = _enter(
        "campaign_attribution", leads, opportunities, campaign_members
    )
    require_columns(lf_opps, "opportunities", keys)
    extra: list[nw.Expr] = [nw.col(k) for k in keys]
    names = list(keys)
    if period is not None:
        require_columns(lf_opps, "opportunities", (column,))
        stamp = _compat.to_local_naive(lf_opps, [column], tz=tz, table="opportunities")
        lf_opps = stamp
        moment = nw.col(column)
        if column != "created_at":
            moment = nw.when(moment < cutoff).then(moment)
        extra.append(period_start(moment, period).alias("period"))
        names.append("period")
    rows = _weights(
        lf_leads,
        lf_opps,
        members,
        cutoff=cutoff,
        lookback=days,
        half_life=decay,
        models=chosen,
        extra=extra,
        extra_names=names,
        tz=tz,
    )
    group = [*names, "model", "campaign_id"]
    num = nw.col("weight_numerator")
    weight = nw.col("weight")
    is_decay = nw.col("weight_denominator").is_null()
    amount, valid, won = nw.col("__pk_amount"), nw.col("__pk_valid"), nw.col("__pk_won")
    # per denominator: integer numerators (exact) and amount x numerator (exact for
    # whole amounts); time decay (null denominator): float weights
    share = nw.when(is_decay).then(weight).otherwise(num.cast(nw.Float64))
    parts = (
        rows.with_columns(
            nw.lit(1).cast(nw.Int64).alias("__pk_touch"),
            num.alias("n_sql"),
            (num * valid).alias("n_valid"),
            (num * won).alias("n_won"),
            nw.when(is_decay).then(weight).otherwise(0.0).alias("w_sql"),
            nw.when(is_decay).then(weight * valid).otherwise(0.0).alias("w_valid"),
            nw.when(is_decay).then(weight * won).otherwise(0.0).alias("w_won"),
            (amount * share).alias("a_sql"),
            (amount * share * valid).alias("a_valid"),
            (amount * share * won).alias("a_won"),
        )
        .group_by(*group, "weight_denominator")
        .agg(
            nw.col("__pk_touch").sum(),
            *[nw.col(f"{kind}_{s}").sum() for kind in ("n", "w", "a") for s in _MEASURES],
        )
    )
    schema = {
        **_compat.column_kinds(rows, names),
        "model": nw.String(),
        "campaign_id": nw.String(),
        "opportunity_count": nw.Int64(),
        **{name: nw.Float64() for s in _MEASURES for name in (f"{s}_credit", f"{s}_amount_credit")},
    }
    data = _finish_credits(session.collect(parts).rows(named=True), names, chosen)
    result = _compat.from_columns(rows, data, schema)
    if result.implementation is nw.Implementation.DUCKDB:  # VALUES keep no order
        result = (
            result.with_columns(_model_order(chosen).alias("__pk_model"))
            .sort([*names, "__pk_model", "campaign_id"], nulls_last=True)
            .drop("__pk_model")
        )
    return session.finish(result)  # type: ignore[no-any-return]


def _finish_credits(
    parts: list[dict[str, Any]], names: Sequence[str], models: Sequence[str]
) -> dict[str, list[Any]]:
    """Per (group, model, campaign): the credits from the per-denominator parts.

    Count credits of the exact models are sums of fractions (``Fraction``), rounded
    once; every float sum is :func:`math.fsum` (order-free), so the result is the same
    on every engine and run.
    """
    order = {m: i for i, m in enumerate(models)}
    cells: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for part in parts:
        key = (*[part[n] for n in names], part["model"], part["campaign_id"])
        cells.setdefault(key, []).append(part)

    def sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
        *groups, model, campaign = key
        plain = tuple((g is None, "" if g is None else g) for g in groups)
        return (*plain, order[model], campaign is None, campaign or "")

    data: dict[str, list[Any]] = {
        c: []
        for c in (
            *names,
            "model",
            "campaign_id",
            "opportunity_count",
            *[f"{s}_{kind}credit" for s in _MEASURES for kind in ("", "amount_")],
        )
    }
    for key in sorted(cells, key=sort_key):
        *groups, model, campaign = key
        found = cells[key]
        for name, value in zip(names, groups, strict=True):
            data[name].append(value)
        data["model"].append(model)
        data["campaign_id"].append(campaign)
        data["opportunity_count"].append(
            sum(int(_compat.python_value(p["__pk_touch"])) for p in found)
        )
        for s in _MEASURES:
            exact = Fraction(0)
            floats: list[float] = []
            amounts: list[float] = []
            for p in found:
                den = p["weight_denominator"]
                if den is None:
                    floats.append(float(p[f"w_{s}"]))
                    amounts.append(float(p[f"a_{s}"]))
                else:
                    den = int(_compat.python_value(den))
                    exact += Fraction(int(_compat.python_value(p[f"n_{s}"])), den)
                    amounts.append(float(p[f"a_{s}"]) / den)
            data[f"{s}_credit"].append(float(exact) + math.fsum(floats))
            data[f"{s}_amount_credit"].append(math.fsum(amounts))
    return data
