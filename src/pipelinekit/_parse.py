"""Turn one input column into canonical values; the only backend-specific code of validation.

:func:`convert` takes one input column (a narwhals Series over pandas or polars) and
the canonical :class:`~pipelinekit.schema.Column` it should become, and returns the
converted values, which cells were missing, and one boolean mask per kind of
unconvertible value (:class:`Issue`). :func:`finalize` then gives the values their
exact canonical dtype (pandas: ``Column.pandas_dtype``; polars: String, Int64,
Float64, Boolean, Datetime("us")) and fills defaults. Table-level rules live in
:mod:`pipelinekit.validation`.

Spelling accepted in string cells (DESIGN.md section 5):

- missing: empty, ``NA``, ``N/A``, ``NULL``, ``NaN``, ``None`` in any letter case
  (:data:`MISSING_TOKENS`). Text columns (ids, names, ...) are never trimmed, so
  there only the exact token is missing; enum, number, boolean and timestamp cells
  are trimmed first, so ``" NA "`` is missing there too;
- booleans: ``true/false``, ``1/0``, ``yes/no`` in any case;
- numbers: plain decimal or scientific notation; ``1,200`` is reported as a
  thousands separator, ``inf`` as non-finite; an int may be written ``12.0``;
- timestamps: ISO-8601 (``2025-04-01``, ``2025-04-01T09:30[:00[.123]]``, with or
  without an offset ``Z`` / ``+09:00`` / ``+0900`` / ``+09``) or
  ``YYYY/MM/DD[ HH:MM[:SS]]``; month, day and hour may have one digit.

Most of the work is written once with narwhals. The backend-specific code of
validation lives here and nowhere else: entering (:func:`to_eager`), reading
timestamp strings (pandas' ISO-8601 parser; a polars column makes a round trip
through pandas so that both backends parse identically), blanking cells
(``_keep``), membership and duplicate tests tuned per engine (:func:`not_in`,
:func:`may_have_duplicates`), the final dtype casts, all-missing columns and frame
assembly.

Examples
--------
>>> import pandas as pd
>>> import narwhals as nw
>>> from pipelinekit.schema import TABLES
>>> raw = nw.from_native(pd.Series(["12", "1,200", "", "x"], name="employees"),
...                      series_only=True)
>>> parsed = convert(raw, TABLES["accounts"].column("employees"), tz="Asia/Tokyo")
>>> [(issue.rule, issue.mask.to_list()) for issue in parsed.issues]
... # doctest: +NORMALIZE_WHITESPACE
[('thousands_separator', [False, True, False, False]),
 ('bad_type', [False, False, False, True])]
>>> finalize(parsed.values, TABLES["accounts"].column("employees")).to_list()
[12, <NA>, <NA>, <NA>]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import attrs
import narwhals as nw
import numpy as np
import pandas as pd

from pipelinekit.errors import Severity
from pipelinekit.schema import PANDAS_DTYPES, Column

__all__ = [
    "MISSING_TOKENS",
    "Backend",
    "Issue",
    "Parsed",
    "all_missing",
    "assemble",
    "backend_of",
    "convert",
    "drop_duplicate_columns",
    "duplicate_column_names",
    "finalize",
    "may_have_duplicates",
    "missing_tokens_to_null",
    "not_in",
    "to_eager",
]

Series: TypeAlias = "nw.Series[Any]"
Frame: TypeAlias = "nw.DataFrame[Any]"
Backend = Literal["pandas", "polars"]

#: Cell values that mean "missing", in any letter case.
MISSING_TOKENS: tuple[str, ...] = ("", "na", "n/a", "null", "nan", "none")


def _spellings(tokens: Iterable[str]) -> tuple[str, ...]:
    """Every upper/lower-case spelling of ``tokens``: an exact ``is_in`` is far faster
    than lower-casing a whole column."""
    variants = {
        "".join(chars)
        for token in tokens
        for chars in itertools.product(*({c.lower(), c.upper()} for c in token))
    }
    return tuple(sorted(variants))


_MISSING_SPELLINGS = _spellings(MISSING_TOKENS)
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
_INFINITE = ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")

# Regexes use only syntax shared by Python re, RE2 (pyarrow) and Rust regex (polars):
# no back-references, no look-arounds, [0-9] rather than the Unicode-aware \d.
_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_THOUSANDS = r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?$"
_OFFSET = r"[+-][0-9]{2}(?::?[0-9]{2})?"
_TIMESTAMP = (
    r"^[0-9]{4}(?:-[0-9]{1,2}-[0-9]{1,2}|/[0-9]{1,2}/[0-9]{1,2})"
    r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)? ?(?:Z|" + _OFFSET + r")?)?$"
)
_HAS_OFFSET = r"(?:Z|:[0-9]{2}(?:\.[0-9]+)? ?" + _OFFSET + r")$"
_INT64_LIMIT = 2.0**63
_NON_FINITE = "numbers must be finite"


@attrs.frozen
class Issue:
    """Cells of one column that break one rule: ``mask`` is True on those rows."""

    rule: str
    mask: Series
    message: str
    severity: Severity = "error"
    hint: str | None = None


@attrs.frozen
class Parsed:
    """Converted values of one column (null where missing or unconvertible)."""

    values: Series
    missing: Series
    issues: tuple[Issue, ...] = ()


# --------------------------------------------------------------------------- frames


def to_eager(native: Any) -> tuple[Frame, Backend]:
    """Wrap an input frame as an eager narwhals frame of pandas or polars.

    pandas frames get a fresh ``RangeIndex`` (a shallow copy: the input is untouched);
    pyarrow tables and every other narwhals-supported frame are converted to polars.
    Raises ``TypeError`` for objects narwhals does not support.
    """
    if isinstance(native, pd.DataFrame):
        frame = native.reset_index(drop=True) if _needs_new_index(native) else native
        return nw.from_native(frame, eager_only=True), "pandas"
    import polars as pl

    if isinstance(native, pl.DataFrame):
        return nw.from_native(native, eager_only=True), "polars"
    wrapped = nw.from_native(native)
    if isinstance(wrapped, nw.LazyFrame):
        return nw.from_native(wrapped.collect(backend="polars").to_native()), "polars"
    return nw.from_native(wrapped.to_polars(), eager_only=True), "polars"


def _needs_new_index(frame: pd.DataFrame) -> bool:
    index = frame.index
    return not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1)


def backend_of(native: Any) -> Backend:
    """The backend :func:`to_eager` would use for ``native``."""
    return "pandas" if isinstance(native, pd.DataFrame) else "polars"


def _column_names(native: Any) -> list[Any]:
    if isinstance(native, pd.DataFrame):
        return list(native.columns)
    names = getattr(native, "column_names", None)  # pyarrow.Table
    return list(names) if names is not None else []


def duplicate_column_names(native: Any) -> list[str]:
    """Column names that occur more than once (pandas and pyarrow allow them)."""
    seen: set[Any] = set()
    dupes: list[str] = []
    for name in _column_names(native):
        if name in seen and str(name) not in dupes:
            dupes.append(str(name))
        seen.add(name)
    return dupes


def drop_duplicate_columns(native: Any) -> Any:
    """A copy of ``native`` keeping only the first column of each name."""
    if isinstance(native, pd.DataFrame):
        return native.loc[:, ~native.columns.duplicated()]
    names = _column_names(native)
    first = [i for i, name in enumerate(names) if name not in names[:i]]
    return native.select(first)


def assemble(columns: Sequence[Series], extras: Frame | None, backend: Backend) -> Frame:
    """Build a frame from canonical columns followed by the ``extras`` columns."""
    natives = [c.to_native() for c in columns]
    if extras is not None:
        natives += [extras[name].to_native() for name in extras.columns]
    if backend == "pandas":
        data = {s.name: s for s in natives}
        return nw.from_native(pd.DataFrame(data, copy=False), eager_only=True)
    import polars as pl

    return nw.from_native(pl.DataFrame(natives), eager_only=True)


def may_have_duplicates(values: Series) -> bool:
    """False when the non-missing values are certainly all distinct.

    On polars distinct 64-bit hashes prove distinct values, which is much faster
    than an exact check; equal hashes only mean "look closer".
    """
    native = values.drop_nulls().to_native()
    if isinstance(native, pd.Series):
        arrow = _arrow_strings(native)
        if arrow is not None:
            import pyarrow.compute as pc

            return len(pc.unique(arrow)) < len(arrow)
        return not native.is_unique
    return bool(native.hash().n_unique() < len(native))


def not_in(keys: Series, parent: Series) -> Series:
    """True where ``keys`` has a value that is not among ``parent``'s values."""
    native, candidates = keys.to_native(), parent.drop_nulls().to_native()
    found: Any
    if isinstance(native, pd.Series):
        found = _pandas_isin(native, candidates)
    else:
        found = native.is_in(candidates.implode())
    return _flag(~nw.from_native(found, series_only=True) & ~keys.is_null())


def _pandas_isin(values: pd.Series[Any], candidates: pd.Series[Any]) -> pd.Series[Any]:
    """``values.isin(candidates)``; pyarrow-backed strings go straight to pyarrow
    (pandas' own isin converts a large candidate set to Python objects first)."""
    arrow, arrow_candidates = _arrow_strings(values), _arrow_strings(candidates)
    if arrow is None or arrow_candidates is None:
        return values.isin(candidates)
    import pyarrow.compute as pc

    found = pc.is_in(arrow, value_set=arrow_candidates.cast(arrow.type))
    return pd.Series(np.asarray(found, dtype=bool), index=values.index, name=values.name)


def _arrow_strings(values: pd.Series[Any]) -> Any | None:
    """The pyarrow array behind a pyarrow-backed pandas string column, else None."""
    if getattr(values.dtype, "storage", None) != "pyarrow":
        return None
    import pyarrow as pa

    return pa.array(values)


def all_missing(column: Column, length: int, backend: Backend) -> Series:
    """A column of ``length`` missing values (before :func:`finalize`)."""
    if backend == "pandas":
        dtype = PANDAS_DTYPES[column.kind]
        native: Any = pd.Series(index=pd.RangeIndex(length), dtype=dtype, name=column.name)
    else:
        import polars as pl

        native = pl.repeat(None, length, dtype=_polars_dtype(column), eager=True)
        native = native.alias(column.name)
    return nw.from_native(native, series_only=True)


def finalize(values: Series, column: Column) -> Series:
    """Cast converted values to the exact canonical dtype and fill the default.

    Values must already be convertible: integral numbers for ints, 0/1 or booleans
    for bools, naive datetimes for timestamps.
    """
    native = values.to_native()
    out: Any
    if isinstance(native, pd.Series):
        out = _as_pandas_dtype(native, PANDAS_DTYPES[column.kind])
        if column.default is not None:
            out = _as_pandas_dtype(out.fillna(column.default), column.pandas_dtype)
    else:
        out = native.cast(_polars_dtype(column))
        if column.default is not None:
            out = out.fill_null(column.default)
    return nw.from_native(out.rename(column.name), series_only=True)


def _as_pandas_dtype(native: pd.Series[Any], dtype: str) -> pd.Series[Any]:
    return native if native.dtype == dtype else native.astype(dtype)  # type: ignore[call-overload]


def _polars_dtype(column: Column) -> Any:
    import polars as pl

    dtypes: dict[str, Any] = {
        "str": pl.String,
        "enum": pl.String,
        "int": pl.Int64,
        "float": pl.Float64,
        "bool": pl.Boolean,
        "timestamp": pl.Datetime("us"),
        "date": pl.Datetime("us"),
    }
    return dtypes[column.kind]


# ------------------------------------------------------------------------- helpers


def _flag(mask: Series) -> Series:
    """A mask with null read as False."""
    if mask.to_native().dtype == bool:  # numpy bool (pandas) cannot hold nulls
        return mask
    return mask.fill_null(False)


def _keep(values: Series, keep: Series) -> Series:
    """``values`` where ``keep`` is True, missing elsewhere.

    The dtype is unchanged except that pandas' numpy ints and bools become floats
    (callers pass text, floats or datetimes).
    """
    native, mask = values.to_native(), _flag(keep).to_native()
    if isinstance(native, pd.Series):
        return nw.from_native(native.where(mask.to_numpy(dtype=bool)), series_only=True)
    import polars as pl

    kept = pl.select(pl.when(mask).then(native).alias(native.name)).to_series()
    return nw.from_native(kept, series_only=True)


def _matches(text: Series, pattern: str) -> Series:
    return _flag(text.str.contains(pattern))


def _is_textual(dtype: Any) -> bool:
    return bool(
        dtype == nw.String
        or dtype == nw.Object
        or dtype == nw.Unknown
        or dtype == nw.Categorical
        or dtype == nw.Enum
    )


def _as_text(values: Series) -> Series:
    return values if values.dtype == nw.String else values.cast(nw.String)


def _is_number(dtype: Any) -> bool:
    return bool(dtype.is_numeric())


def _is_datetime(dtype: Any) -> bool:
    return bool(dtype == nw.Datetime or dtype == nw.Date)


def missing_tokens_to_null(text: Series) -> Series:
    """Replace cells that are exactly a missing token (any letter case) by null.

    >>> import polars as pl
    >>> text = nw.from_native(pl.Series("region", ["NA", "n/a", " NA", None, "west"]),
    ...                       series_only=True)
    >>> missing_tokens_to_null(text).to_list()
    [None, None, ' NA', None, 'west']
    """
    tokens = _flag(text.is_in(_MISSING_SPELLINGS))
    return _keep(text, ~tokens) if tokens.any() else text


def _is_missing(text: Series) -> Series:
    return _flag(text.is_in(_MISSING_SPELLINGS)) | text.is_null()


def _clean(text: Series) -> tuple[Series, Series]:
    """Trimmed text with missing tokens as null, and the mask of missing cells."""
    stripped = text.str.strip_chars()
    missing = _is_missing(stripped)
    return _keep(stripped, ~missing), missing


def _bad_type(mask: Series, expected: str) -> Issue:
    return Issue("bad_type", mask, f"not {expected}")


# ------------------------------------------------------------------------- convert


def convert(values: Series, column: Column, *, tz: str) -> Parsed:
    """Convert one input column to ``column``'s kind, flagging what cannot be converted.

    Parameters
    ----------
    values
        The input column: strings (e.g. from CSV) or already typed values.
    column
        The canonical column it should become.
    tz
        Time zone of the dataset: naive timestamps are wall-clock time there and
        values with an offset or a time zone are converted to it.

    Returns
    -------
    Parsed
        Values (not yet in their final dtype, see :func:`finalize`), the mask of
        missing cells and one :class:`Issue` per rule broken.

    Examples
    --------
    >>> import polars as pl
    >>> from pipelinekit.schema import TABLES
    >>> raw = nw.from_native(pl.Series("is_target", ["Yes", " false ", "NULL", "2"]),
    ...                      series_only=True)
    >>> parsed = convert(raw, TABLES["accounts"].column("is_target"), tz="Asia/Tokyo")
    >>> parsed.missing.to_list(), [i.rule for i in parsed.issues]
    ([False, False, True, False], ['bad_type'])
    >>> finalize(parsed.values, TABLES["accounts"].column("is_target")).to_list()
    [True, False, False, False]
    """
    if _is_textual(values.dtype):
        return _TEXT_CONVERTERS[column.kind](_as_text(values), column, tz)
    return _TYPED_CONVERTERS[column.kind](values, column, tz)


def _text_to_str(text: Series, column: Column, tz: str) -> Parsed:
    values = missing_tokens_to_null(text)
    return Parsed(values, values.is_null())


def _text_to_enum(text: Series, column: Column, tz: str) -> Parsed:
    if _flag(text.is_in(column.enum) | text.is_null()).all():
        return Parsed(text, text.is_null())
    clean, missing = _clean(text)
    lowered = clean.str.to_lowercase()
    unknown = ~missing & ~_flag(lowered.is_in(column.enum))
    allowed = ", ".join(column.enum)
    issue = Issue(
        "unknown_enum",
        unknown,
        f"not one of: {allowed}",
        hint="values are matched case-insensitively after trimming spaces",
    )
    return Parsed(_keep(lowered, ~unknown), missing, (issue,))


def _text_to_number(text: Series, column: Column, tz: str) -> Parsed:
    clean, missing = _clean(text)
    is_number = _matches(clean, _NUMBER)
    if (is_number | missing).all():  # the usual case: nothing to report
        return _finish_number(clean.cast(nw.Float64), missing, column, [])
    thousands = _matches(clean, _THOUSANDS)
    infinite = _flag(clean.str.to_lowercase().is_in(_INFINITE))
    bad = ~missing & ~is_number & ~thousands & ~infinite
    numbers = _keep(clean, is_number).cast(nw.Float64)
    issues = [
        Issue(
            "thousands_separator",
            thousands,
            "thousands separators are not allowed",
            hint="write 1200, not 1,200",
        ),
        Issue("non_finite", infinite, _NON_FINITE),
        _bad_type(bad, "an integer" if column.kind == "int" else "a number"),
    ]
    return _finish_number(numbers, missing, column, issues)


def _finish_number(numbers: Series, missing: Series, column: Column, issues: list[Issue]) -> Parsed:
    """Flag non-finite numbers (and fractional ones in int columns); drop unused issues."""
    present = ~numbers.is_null()
    rejected = present & ~_flag(numbers.is_finite())
    issues.append(Issue("non_finite", rejected, _NON_FINITE))
    if column.kind == "int":
        whole = _flag((numbers % 1) == 0) & _flag(numbers.abs() < _INT64_LIMIT)
        fractional = present & ~rejected & ~whole
        issues.append(_bad_type(fractional, "an integer (whole number within int64)"))
        rejected = rejected | fractional
    if rejected.any():
        numbers = _keep(numbers, ~rejected)
    return Parsed(numbers, missing, _merge_issues(issues))


def _merge_issues(issues: Iterable[Issue]) -> tuple[Issue, ...]:
    """Keep issues that flag at least one row; merge masks of the same rule."""
    merged: dict[str, Issue] = {}
    for issue in issues:
        if not issue.mask.any():
            continue
        if issue.rule in merged:
            first = merged[issue.rule]
            issue = attrs.evolve(first, mask=first.mask | issue.mask)
        merged[issue.rule] = issue
    return tuple(merged.values())


def _text_to_bool(text: Series, column: Column, tz: str) -> Parsed:
    clean, missing = _clean(text)
    lowered = clean.str.to_lowercase()
    truthy = _flag(lowered.is_in(_TRUE))
    falsy = _flag(lowered.is_in(_FALSE))
    bad = ~missing & ~truthy & ~falsy
    # Booleans travel as 1.0 / 0.0 / null floats until finalize() casts them.
    ones = truthy.cast(nw.Float64)
    values = _keep(ones, truthy | falsy)
    issue = _bad_type(bad, "a boolean (true/false, 1/0, yes/no)")
    return Parsed(values, missing, _merge_issues([issue]))


def _text_to_timestamp(text: Series, column: Column, tz: str) -> Parsed:
    clean, missing = _clean(text)
    shaped = _matches(clean, _TIMESTAMP)
    offset = shaped & _matches(clean, _HAS_OFFSET)
    values = _read_timestamps(clean, shaped, offset, tz)
    unparseable = ~missing & values.is_null()
    naive = shaped & ~offset & ~unparseable
    issues = [
        Issue(
            "unparseable_timestamp",
            unparseable,
            "not a valid date or timestamp",
            hint="use ISO-8601 (2025-04-01T09:30:00, offsets allowed) or YYYY/MM/DD HH:MM",
        )
    ]
    if offset.any():
        issues.append(
            Issue(
                "mixed_timestamp_zones",
                naive,
                f"no UTC offset while other values in this column have one; "
                f"read as wall-clock time in {tz}",
                severity="warning",
            )
        )
    return _finish_timestamp(values, missing, column, issues)


def _finish_timestamp(
    values: Series, missing: Series, column: Column, issues: list[Issue]
) -> Parsed:
    """Truncate date columns to midnight; drop issues that never occur."""
    if column.kind == "date":
        values = values.dt.truncate("1d")
    return Parsed(values, missing, _merge_issues(issues))


def _read_timestamps(clean: Series, shaped: Series, offset: Series, tz: str) -> Series:
    """Parse well-shaped strings to naive wall-clock time in ``tz`` (backend code)."""
    native = clean.to_native()
    if isinstance(native, pd.Series):
        result = _read_timestamps_pandas(native, shaped.to_native(), offset.to_native(), tz)
        return nw.from_native(result, series_only=True)
    import polars as pl

    parsed = _read_timestamps_pandas(clean.to_pandas(), shaped.to_pandas(), offset.to_pandas(), tz)
    polars_values = pl.from_pandas(parsed).cast(pl.Datetime("us")).alias(clean.name)
    return nw.from_native(polars_values, series_only=True)


def _read_timestamps_pandas(
    text: pd.Series[Any], shaped: pd.Series[Any], offset: pd.Series[Any], tz: str
) -> Any:
    shaped = shaped.astype(bool)
    offset = offset.astype(bool)
    naive = pd.to_datetime(text.where(shaped & ~offset), format="ISO8601", errors="coerce")
    result = naive.astype("datetime64[us]")
    if offset.any():
        aware = pd.to_datetime(text.where(offset), format="ISO8601", errors="coerce", utc=True)
        local = aware.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[us]")
        result = result.where(~offset, local)
    return result.rename(str(text.name))


def _typed_to_str(values: Series, column: Column, tz: str) -> Parsed:
    missing = values.is_null()
    if not values.dtype.is_float():
        return Parsed(values.cast(nw.String), missing)
    missing = missing | _flag(values.is_nan())
    text = _keep(values, ~missing).cast(nw.String)
    if (missing | _flag((values % 1) == 0)).all():
        text = text.str.replace(r"\.0$", "")  # integral float ids: 12.0 -> "12"
    return Parsed(text, missing)


def _typed_to_enum(values: Series, column: Column, tz: str) -> Parsed:
    return _text_to_enum(_typed_to_str(values, column, tz).values, column, tz)


def _typed_to_number(values: Series, column: Column, tz: str) -> Parsed:
    missing = values.is_null()
    if not _is_number(values.dtype) or values.dtype == nw.Boolean:
        return _unconvertible(values, column)
    if values.dtype == nw.Decimal:  # DuckDB DECIMAL and HUGEINT columns; no NaN in them
        values = values.cast(nw.Float64)
    if values.dtype.is_integer():
        return Parsed(values, missing)
    missing = missing | _flag(values.is_nan())
    numbers = _keep(values.cast(nw.Float64), ~missing)
    return _finish_number(numbers, missing, column, [])


def _typed_to_bool(values: Series, column: Column, tz: str) -> Parsed:
    missing = values.is_null()
    if values.dtype == nw.Boolean:
        return Parsed(values, missing)
    if not _is_number(values.dtype):
        return _unconvertible(values, column)
    if values.dtype.is_float():
        missing = missing | _flag(values.is_nan())
    numbers = values.cast(nw.Float64)
    zero_one = _flag(numbers.is_in([0.0, 1.0]))
    bad = ~missing & ~zero_one
    issue = _bad_type(bad, "a boolean (0 or 1)")
    return Parsed(_keep(numbers, zero_one), missing, _merge_issues([issue]))


def _typed_to_timestamp(values: Series, column: Column, tz: str) -> Parsed:
    missing = values.is_null()
    if not _is_datetime(values.dtype):
        return _unconvertible(values, column)
    if values.dtype == nw.Date:
        return _finish_timestamp(values.cast(nw.Datetime("us")), missing, column, [])
    if getattr(values.dtype, "time_zone", None):
        values = values.dt.convert_time_zone(tz).dt.replace_time_zone(None)
    return _finish_timestamp(values, missing, column, [])


def _unconvertible(values: Series, column: Column) -> Parsed:
    """Every non-missing cell of a column whose dtype cannot hold ``column``'s kind."""
    missing = values.is_null()
    expected = _EXPECTED[column.kind]
    issue = Issue("bad_type", ~missing, f"not {expected} (column dtype {values.dtype})")
    empty = all_missing(column, len(values), _backend(values))
    return Parsed(empty, missing, _merge_issues([issue]))


def _backend(values: Series) -> Backend:
    return "pandas" if isinstance(values.to_native(), pd.Series) else "polars"


_EXPECTED: Mapping[str, str] = {
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "timestamp": "a timestamp",
    "date": "a date",
}


_Converter = Callable[[Series, Column, str], Parsed]

_TEXT_CONVERTERS: Mapping[str, _Converter] = {
    "str": _text_to_str,
    "enum": _text_to_enum,
    "int": _text_to_number,
    "float": _text_to_number,
    "bool": _text_to_bool,
    "timestamp": _text_to_timestamp,
    "date": _text_to_timestamp,
}

_TYPED_CONVERTERS: Mapping[str, _Converter] = {
    "str": _typed_to_str,
    "enum": _typed_to_enum,
    "int": _typed_to_number,
    "float": _typed_to_number,
    "bool": _typed_to_bool,
    "timestamp": _typed_to_timestamp,
    "date": _typed_to_timestamp,
}
