"""Reusable breakdown bands: employee bands, amount bands, quantity bands.

A band scheme is a sequence of ``(label, upper)`` pairs with inclusive upper bounds in
increasing order; the last upper bound may be ``None`` (no limit). Values below the
first bound fall in the first band; missing values give a missing band.

Examples
--------
>>> import pandas as pd, narwhals as nw
>>> df = nw.from_native(pd.DataFrame({"employees": [5, 31, 999, 5000, None]}))
>>> df.select(employee_band()).to_native()["employee_band"].tolist()
['1-30', '31-299', '300-999', '1000+', nan]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import narwhals as nw

from pipelinekit.errors import ConfigError

__all__ = [
    "ACCOUNT_BREAKDOWNS",
    "AMOUNT_BANDS",
    "DERIVED_BANDS",
    "EMPLOYEE_BANDS",
    "QUANTITY_BANDS",
    "Bands",
    "amount_band",
    "band",
    "band_breakdowns",
    "check_bands",
    "check_by",
    "employee_band",
    "quantity_band",
    "with_breakdown_columns",
]

Bands = Sequence[tuple[str, float | None]]

#: Company size bands used for segments and capacity (DESIGN section 3).
EMPLOYEE_BANDS: Bands = (("1-30", 30), ("31-299", 299), ("300-999", 999), ("1000+", None))
#: Deal size bands in the dataset currency (JPY by default).
AMOUNT_BANDS: Bands = (
    ("<1M", 999_999.999),
    ("1M-3M", 2_999_999.999),
    ("3M-10M", 9_999_999.999),
    ("10M+", None),
)
#: Unit bands (for example vehicles per deal).
QUANTITY_BANDS: Bands = (("1-9", 9), ("10-49", 49), ("50-99", 99), ("100+", None))


def check_bands(bands: Bands, *, name: str = "bands") -> list[tuple[str, float | None]]:
    """Validate a band scheme: labels unique, upper bounds increasing, only the last open."""
    out = [(str(label), upper) for label, upper in bands]
    if not out:
        raise ConfigError(f"{name} must contain at least one band")
    labels = [label for label, _ in out]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"{name} labels must be unique; got {labels}")
    uppers = [u for _, u in out]
    if any(u is None for u in uppers[:-1]):
        raise ConfigError(f"{name}: only the last band may have no upper bound")
    bounded = [float(u) for u in uppers if u is not None]
    if any(b >= a for a, b in zip(bounded[1:], bounded[:-1], strict=True)):
        raise ConfigError(f"{name}: upper bounds must increase; got {uppers}")
    return out


def band(column: str, bands: Bands, *, alias: str | None = None) -> nw.Expr:
    """Label of the band each value of ``column`` falls in (null when missing)."""
    scheme = check_bands(bands)
    value = nw.col(column)
    result = None
    for label, upper in scheme:
        condition = ~value.is_null() if upper is None else value <= upper
        result = (nw.when if result is None else result.when)(condition).then(nw.lit(label))
    assert result is not None
    return result.alias(alias or f"{column}_band")


def employee_band(column: str = "employees", bands: Bands = EMPLOYEE_BANDS) -> nw.Expr:
    """Employee band (``1-30``, ``31-299``, ``300-999``, ``1000+`` by default)."""
    return band(column, bands, alias="employee_band")


def amount_band(column: str = "amount", bands: Bands = AMOUNT_BANDS) -> nw.Expr:
    """Amount band of a deal (see :data:`AMOUNT_BANDS`)."""
    return band(column, bands, alias="amount_band")


def quantity_band(column: str = "quantity", bands: Bands = QUANTITY_BANDS) -> nw.Expr:
    """Quantity band of a deal (see :data:`QUANTITY_BANDS`)."""
    return band(column, bands, alias="quantity_band")


# ------------------------------------------------------------------ breakdown joins

#: Derived breakdown columns: name -> (source column, expression builder).
DERIVED_BANDS: dict[str, tuple[str, Callable[[], nw.Expr]]] = {
    "employee_band": ("employees", employee_band),
    "amount_band": ("amount", amount_band),
    "quantity_band": ("quantity", quantity_band),
}
#: Account columns offered when no ``accounts`` table is given (for the error hint).
ACCOUNT_BREAKDOWNS = (
    "industry",
    "region",
    "employees",
    "employee_band",
    "annual_revenue",
    "is_target",
    "target_tier",
)
#: Prefix of opportunity columns whose name the journey or accounts already use.
OPPORTUNITY_PREFIX = "opportunity_"


def check_by(by: str | Sequence[str], *, reserved: Sequence[str] = ()) -> tuple[str, ...]:
    """Validate a ``by`` argument: a column name or a sequence of distinct names.

    ``reserved`` names (output columns of the calling metric) are rejected.

    >>> check_by("origin"), check_by(["origin", "source"])
    (('origin',), ('origin', 'source'))
    """
    names = (by,) if isinstance(by, str) else tuple(by)
    if not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"by must be a column name or a sequence of column names; got {by!r}")
    if len(set(names)) != len(names):
        raise ConfigError(f"by must not repeat a column; got {list(names)}")
    clash = [n for n in names if n in reserved]
    if clash:
        raise ConfigError(
            f"by: {', '.join(map(repr, clash))} is an output column name; rename the column first"
        )
    return names


def _band_columns(names: Sequence[str], present: Sequence[str]) -> dict[str, nw.Expr]:
    """Derived band columns (``employee_band`` ...) that ``present`` columns allow."""
    return {
        name: build()
        for name, (source, build) in DERIVED_BANDS.items()
        if name in names and source in present and name not in present
    }


def band_breakdowns(
    frame: nw.LazyFrame[Any], by: Sequence[str], *, table: str
) -> nw.LazyFrame[Any]:
    """``frame`` with the derived band columns of ``by`` added; unknown names rejected.

    ``by`` may name columns of ``frame`` and the bands :data:`DERIVED_BANDS` built
    from them (``amount_band`` from ``amount`` ...).
    """
    present = frame.collect_schema().names()
    bands = _band_columns(by, present)
    available = [*present, *[n for n in DERIVED_BANDS if DERIVED_BANDS[n][0] in present]]
    _reject_unknown(by, available, table=table, hint="")
    return frame.with_columns(*[e.alias(n) for n, e in bands.items()]) if bands else frame


def _reject_unknown(by: Sequence[str], available: Sequence[str], *, table: str, hint: str) -> None:
    unknown = [n for n in by if n not in available]
    if unknown:
        listed = ", ".join(sorted(dict.fromkeys(available)))
        raise ConfigError(
            f"by: unknown column(s) {', '.join(map(repr, unknown))} for the {table}; "
            f"available: {listed}{hint}"
        )


def with_breakdown_columns(
    journey: nw.LazyFrame[Any],
    by: str | Sequence[str],
    *,
    accounts: nw.LazyFrame[Any] | None = None,
    opportunities: nw.LazyFrame[Any] | None = None,
) -> nw.LazyFrame[Any]:
    """The journey (or any per-lead frame) with every ``by`` column present.

    A ``by`` name is looked up, in order, among

    1. the columns of ``journey`` (lead columns: ``origin``, ``source``,
       ``campaign_id``, ``owner_id``, ``department``, ``title``, ...);
    2. with ``accounts``: the columns of the lead's account (joined on
       ``account_id``; ``industry``, ``region``, ``employees``, ``is_target``,
       ``target_tier``, ...) and ``employee_band``;
    3. with ``opportunities``: the columns of the lead's first opportunity (earliest
       ``created_at``, then smallest ``opportunity_id``; ``product``, ``amount``,
       ``quantity``, ...) and ``amount_band`` / ``quantity_band``. An opportunity
       column whose name is already taken is offered as ``opportunity_<name>``
       (``opportunity_owner_id`` is the FS owner).

    Leads without an account or an opportunity get missing values. The joins never
    add or drop rows. Only the requested columns are added.

    Raises
    ------
    ConfigError
        When a name is none of these; the message lists the available columns.

    Examples
    --------
    >>> import pandas as pd
    >>> j = nw.from_native(pd.DataFrame({"lead_id": ["L1", "L2"], "account_id": ["A1", None]}))
    >>> a = nw.from_native(pd.DataFrame({"account_id": ["A1"], "employees": [120]}))
    >>> out = with_breakdown_columns(j.lazy(), "employee_band", accounts=a.lazy())
    >>> out.collect().to_native()["employee_band"].tolist()
    ['31-299', nan]
    """
    names = check_by(by)
    present = journey.collect_schema().names()
    wanted = [n for n in names if n not in present]
    if not wanted:
        return journey
    account_map = _account_columns(accounts, present)
    taken = [*present, *account_map]
    opportunity_map = _opportunity_columns(opportunities, taken)
    available = [*present, *account_map, *opportunity_map]
    hint = ""
    if accounts is None:
        hint += f"; pass accounts= for account columns ({', '.join(ACCOUNT_BREAKDOWNS)})"
    if opportunities is None:
        hint += "; pass opportunities= for opportunity columns (product, amount_band, ...)"
    _reject_unknown(names, available, table="journey", hint=hint)
    out = journey
    from_accounts = [n for n in wanted if n in account_map]
    if from_accounts and accounts is not None:
        if "account_id" not in present:
            raise ConfigError(
                f"by: {from_accounts} need the journey's account_id column to join accounts"
            )
        out = out.join(
            _account_side(accounts, account_map, from_accounts), on="account_id", how="left"
        )
    from_opps = [n for n in wanted if n in opportunity_map]
    if from_opps and opportunities is not None:
        if "lead_id" not in present:
            raise ConfigError(f"by: {from_opps} need the journey's lead_id column")
        side = _first_opportunity(opportunities, opportunity_map, from_opps)
        out = out.join(side, on="lead_id", how="left")
    return out.select(*[nw.col(c) for c in present], *[nw.col(n) for n in wanted])


def _account_columns(accounts: nw.LazyFrame[Any] | None, taken: Sequence[str]) -> dict[str, str]:
    """Breakdown name -> accounts column (or band name) offered by ``accounts``."""
    if accounts is None:
        return {}
    cols = [c for c in accounts.collect_schema().names() if c != "account_id"]
    out = {c: c for c in cols if c not in taken}
    if "employees" in cols and "employee_band" not in taken and "employee_band" not in out:
        out["employee_band"] = "employee_band"
    return out


def _opportunity_columns(
    opportunities: nw.LazyFrame[Any] | None, taken: Sequence[str]
) -> dict[str, str]:
    """Breakdown name -> opportunities column (or band name) offered by ``opportunities``."""
    if opportunities is None:
        return {}
    cols = [c for c in opportunities.collect_schema().names() if c != "lead_id"]
    cols += [n for n, (source, _) in DERIVED_BANDS.items() if source in cols and n not in cols]
    out: dict[str, str] = {}
    for c in cols:
        name = f"{OPPORTUNITY_PREFIX}{c}" if c in taken else c
        out[name] = c
    return out


def _account_side(
    accounts: nw.LazyFrame[Any], mapping: dict[str, str], names: Sequence[str]
) -> nw.LazyFrame[Any]:
    present = accounts.collect_schema().names()
    bands = _band_columns([mapping[n] for n in names], present)
    plain = [nw.col(mapping[n]).alias(n) for n in names if mapping[n] not in bands]
    banded = [bands[mapping[n]].alias(n) for n in names if mapping[n] in bands]
    return accounts.filter(~nw.col("account_id").is_null()).select(
        nw.col("account_id"), *plain, *banded
    )


def _first_opportunity(
    opportunities: nw.LazyFrame[Any], mapping: dict[str, str], names: Sequence[str]
) -> nw.LazyFrame[Any]:
    """One row per lead: the requested columns of its first opportunity."""
    for needed in ("opportunity_id", "created_at"):
        if needed not in opportunities.collect_schema().names():
            raise ConfigError(
                f"by: opportunity breakdowns need opportunities.{needed} to find a lead's "
                "first opportunity"
            )
    present = opportunities.collect_schema().names()
    bands = _band_columns([mapping[n] for n in names], present)
    ranked = (
        opportunities.filter(~nw.col("lead_id").is_null())
        .with_columns(nw.lit(1).cast(nw.Int64).alias("__pk_opportunity_rank"))
        .with_columns(
            nw.col("__pk_opportunity_rank")
            .cum_sum()
            .over("lead_id", order_by=["created_at", "opportunity_id"])
            .cast(nw.Int64)
        )
    )
    columns = [
        (bands[mapping[n]] if mapping[n] in bands else nw.col(mapping[n])).alias(n) for n in names
    ]
    return ranked.filter(nw.col("__pk_opportunity_rank") == 1).select(nw.col("lead_id"), *columns)
