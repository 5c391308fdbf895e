"""Writing the generated tables as CSV or Parquet."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from pipelinekit.sample import _common
from pipelinekit.sample._common import _DATE_COLUMNS, _DAY, _HOUR, _MINUTE
from pipelinekit.sample._frames import _fixed_width_col, _put_digits

# ------------------------------------------------------------------------ writing


def _format_datetimes(values: pd.Series, date_only: bool) -> pd.Series:
    """ISO-8601 text (``YYYY-MM-DDTHH:MM:SS`` or ``YYYY-MM-DD``), missing stays missing."""
    raw = values.to_numpy(dtype="datetime64[us]")
    valid = ~np.isnat(raw)
    secs = np.where(valid, raw.astype(np.int64) // 1_000_000, 0)
    days = secs // _DAY
    d = days.astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    buf = np.empty((len(raw), 10 if date_only else 19), dtype=np.uint8)
    _put_digits(buf, 0, np.clip(year, 0, 9999), 4)
    buf[:, 4] = buf[:, 7] = ord("-")
    _put_digits(buf, 5, month_start.astype(np.int64) % 12 + 1, 2)
    _put_digits(buf, 8, (d - month_start).astype(np.int64) + 1, 2)
    if not date_only:
        seconds_of_day = secs - days * _DAY
        buf[:, 10] = ord("T")
        buf[:, 13] = buf[:, 16] = ord(":")
        _put_digits(buf, 11, seconds_of_day // _HOUR, 2)
        _put_digits(buf, 14, (seconds_of_day // _MINUTE) % 60, 2)
        _put_digits(buf, 17, seconds_of_day % 60, 2)
    return _fixed_width_col(buf, valid)


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with timestamps and dates as ISO-8601 text, whole-number floats as integers."""
    out = {}
    for name in df.columns:
        column = df[name]
        if column.dtype.kind == "M":
            column = _format_datetimes(column, date_only=name in _DATE_COLUMNS)
        elif column.dtype.kind == "f":
            values = column.to_numpy()
            known = values[~np.isnan(values)]
            if np.all(known == np.round(known)) and np.all(np.abs(known) < 2**53):
                column = column.astype("Int64")  # 13151000000 rather than 1.3151e+10
        out[name] = column
    return pd.DataFrame(out)


def _write_csv(df: pd.DataFrame, path: str) -> None:
    text = _csv_frame(df)
    if not _common.USE_ARROW:
        for name in text.columns:
            if text[name].dtype.kind == "b" or isinstance(text[name].dtype, pd.BooleanDtype):
                text[name] = text[name].map({True: "true", False: "false"}).astype("str")
        text.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        return
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa.Table.from_pandas(text, preserve_index=False)
    # plain cells when nothing needs quoting (pyarrow would quote every header name);
    # RFC 4180 quoting of all text when some value contains a comma, quote or newline
    try:
        with open(path, "wb") as handle:
            handle.write((",".join(text.columns) + "\n").encode("utf-8"))
            options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
            pa_csv.write_csv(table, handle, options)
    except pa.ArrowInvalid:
        pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="needed"))


def _write_parquet(df: pd.DataFrame, path: str) -> None:
    if not _common.USE_ARROW:
        msg = "format='parquet' needs pyarrow (a dependency): pip install 'pyarrow>=17'"
        raise ImportError(msg)
    import pyarrow as pa
    import pyarrow.parquet as pa_parquet

    pa_parquet.write_table(pa.Table.from_pandas(df, preserve_index=False), path)


def _write_to(
    writer: Callable[[pd.DataFrame, str], None], frame: pd.DataFrame, tmp: pathlib.Path
) -> None:
    writer(frame, str(tmp))
