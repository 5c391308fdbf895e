"""validate_tables: one test per rule on tiny hand-written tables, on pandas and polars.

Every rule test asserts the exact list of (table, column, rule, row, id) found. The
base dataset ``_base()`` is valid; each test breaks it in one place.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from pipelinekit.errors import ConfigError, Problem, SchemaError
from pipelinekit.schema import TABLES
from pipelinekit.validation import Validated, validate_tables

Data = dict[str, dict[str, list[Any]]]
Found = tuple[str, str | None, str, int | None, str | None]

BACKENDS = ("pandas", "polars")


def _base() -> Data:
    """A small valid dataset, every cell a string as read from CSV."""
    return {
        "accounts": {
            "account_id": ["A1", "A2"],
            "employees": ["10", ""],
            "is_target": ["true", ""],
        },
        "reps": {"rep_id": ["R1", "R2"], "role": ["inside", "field"]},
        "leads": {
            "lead_id": ["L1", "L2"],
            "account_id": ["A1", ""],
            "owner_id": ["R1", "R1"],
            "created_at": ["2025-04-01 09:00", "2025-04-02"],
            "origin": ["inbound", "outbound"],
        },
        "activities": {
            "activity_id": ["X1", "X2"],
            "lead_id": ["L1", "L2"],
            "account_id": ["", "A2"],
            "owner_id": ["R1", "R1"],
            "occurred_at": ["2025-04-01 10:00", "2025-04-03 11:00"],
            "channel": ["call", "email"],
            "direction": ["outbound", "outbound"],
            "outcome": ["connected", "sent"],
            "duration_s": ["30.5", ""],
        },
        "opportunities": {
            "opportunity_id": ["O1", "O2"],
            "lead_id": ["L1", "L2"],
            "owner_id": ["R2", "R2"],
            "created_at": ["2025-04-03 10:00", "2025-04-04"],
            "validated_at": ["2025-04-05", ""],
            "closed_at": ["2025-04-20", ""],
            "is_won": ["true", ""],
            "amount": ["1000", ""],
            "probability": ["0.5", ""],
        },
    }


def _frame(backend: str, columns: dict[str, list[Any]]) -> Any:
    return pd.DataFrame(columns) if backend == "pandas" else pl.DataFrame(columns)


def _frames(backend: str, data: Data) -> dict[str, Any]:
    return {name: _frame(backend, columns) for name, columns in data.items()}


def _summary(problem: Problem) -> Found:
    return (problem.table, problem.column, problem.rule, problem.row, problem.id)


def _problems(backend: str, data: Data, **options: Any) -> list[Problem]:
    """Every problem found (errors raised or warnings returned)."""
    try:
        result = validate_tables(_frames(backend, data), **options)
    except SchemaError as err:
        return err.problems
    return result.warnings


def _found(backend: str, data: Data, **options: Any) -> list[Found]:
    return [_summary(p) for p in _problems(backend, data, **options)]


def _data(*tables: str) -> Data:
    """``leads`` and ``tables`` of the base dataset, without keys to tables left out.

    Fewer tables keep each test fast; ``_base()`` has all of them.
    """
    base = _base()
    data = {name: base[name] for name in ("leads", *tables)}
    for name, columns in data.items():
        for column in list(columns):
            fk = TABLES[name].column(column).fk
            if fk is not None and fk[0] not in data:
                del columns[column]
    return data


def _changed(table: str, column: str, values: list[Any], data: Data | None = None) -> Data:
    data = copy.deepcopy(data if data is not None else _data(table))
    data.setdefault(table, {})[column] = values
    return data


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---------------------------------------------------------------- the valid base


def test_base_dataset_is_valid(backend: str) -> None:
    result = validate_tables(_frames(backend, _base()))
    assert isinstance(result, Validated)
    assert result.warnings == []
    assert result.totals == {}
    assert set(result.tables) == set(TABLES)


# ---------------------------------------------------------- table-level rules


def test_missing_leads_table(backend: str) -> None:
    data = _data("opportunities")
    del data["leads"]
    # the missing table is the one problem: no orphan key per opportunity follows
    found = _problems(backend, data)
    assert [_summary(p) for p in found] == [("leads", None, "missing_table", None, None)]
    assert found[0].severity == "error"
    assert found[0].hint is not None
    assert "no rows is valid" in found[0].hint


def test_empty_leads_table(backend: str) -> None:
    names = list(_base()["leads"])
    frames: dict[str, Any] = {
        "leads": pl.DataFrame(schema=dict.fromkeys(names, pl.String))
        if backend == "polars"
        else pd.DataFrame({name: pd.Series([], dtype="str") for name in names})
    }
    result = validate_tables(frames)
    assert [_summary(p) for p in result.warnings] == [("leads", None, "empty_table", None, None)]
    assert result.warnings[0].severity == "warning"
    assert len(result.tables["leads"]) == 0
    # valid in strict mode too: an empty table is not an implausible or orphan row
    assert len(validate_tables(frames, strict=True).warnings) == 1


def test_empty_leads_table_does_not_check_lead_references(backend: str) -> None:
    # an opportunities-only export: the opportunities keep their lead ids, the leads
    # table is header-only; one warning, no orphan key per opportunity, even strict
    data = _data("opportunities")
    data["leads"] = {name: [] for name in data["leads"]}
    for strict in (False, True):
        found = _problems(backend, data, strict=strict)
        assert [_summary(p) for p in found] == [("leads", None, "empty_table", None, None)]


def test_unreadable_parent_table_gives_no_orphan_keys(backend: str) -> None:
    # accounts could not be read (the reader reported why): the leads' account ids are
    # not checked against the empty stand-in; reps stay checked
    data = _data("reps")
    data["leads"]["account_id"] = ["A1", "A2"]
    data["leads"]["owner_id"] = ["R1", "R9"]
    found = _found(backend, data, unreadable={"accounts"})
    assert found == [("leads", "owner_id", "orphan_fk", 2, "L2")]
    # without the hint every account id is an orphan of the absent accounts table
    assert _found(backend, data) == [
        ("leads", "account_id", "orphan_fk", 1, "L1"),
        ("leads", "account_id", "orphan_fk", 2, "L2"),
        ("leads", "owner_id", "orphan_fk", 2, "L2"),
    ]


def test_other_tables_may_be_empty_or_absent(backend: str) -> None:
    data = {"leads": _base()["leads"], "reps": {"rep_id": [], "role": []}}
    data["leads"]["owner_id"] = ["", ""]
    data["leads"]["account_id"] = ["", ""]
    result = validate_tables(_frames(backend, data))
    assert result.warnings == []
    assert len(result.tables["reps"]) == 0
    assert len(result.tables["activities"]) == 0


def test_unknown_table_is_a_warning(backend: str) -> None:
    data = _data()
    data["notes"] = {"text": ["hello"]}
    result = validate_tables(_frames(backend, data))
    assert [_summary(p) for p in result.warnings] == [("notes", None, "unknown_table", None, None)]
    assert "notes" not in result.tables


def test_missing_required_column(backend: str) -> None:
    data = _data("reps")
    del data["leads"]["origin"]
    del data["reps"]["role"]
    assert _found(backend, data) == [
        ("reps", "role", "missing_column", None, None),
        ("leads", "origin", "missing_column", None, None),
    ]


def test_duplicate_column_names_pandas() -> None:
    leads = pd.DataFrame(
        [["L1", "2025-04-01", "inbound", "x"]],
        columns=["lead_id", "created_at", "origin", "origin"],
    )
    with pytest.raises(SchemaError) as err:
        validate_tables({"leads": leads})
    assert [_summary(p) for p in err.value.problems] == [
        ("leads", "origin", "duplicate_column", None, None)
    ]


def test_duplicate_column_names_pyarrow() -> None:
    leads = pa.table(
        [pa.array(["L1"]), pa.array(["2025-04-01"]), pa.array(["inbound"]), pa.array(["L9"])],
        names=["lead_id", "created_at", "origin", "lead_id"],
    )
    with pytest.raises(SchemaError) as err:
        validate_tables({"leads": leads})
    assert [_summary(p) for p in err.value.problems] == [
        ("leads", "lead_id", "duplicate_column", None, None)
    ]


# ------------------------------------------------------------- column rules


def test_required_value(backend: str) -> None:
    data = _changed("leads", "lead_id", ["L1", ""], _data("reps"))
    data["leads"]["origin"] = [" NA ", None]
    data["reps"]["role"] = ["inside", "null"]
    assert _found(backend, data) == [
        ("reps", "role", "required_value", 2, "R2"),
        ("leads", "lead_id", "required_value", 2, None),
        ("leads", "origin", "required_value", 1, "L1"),
        ("leads", "origin", "required_value", 2, None),
    ]


def test_bad_type(backend: str) -> None:
    data = _changed("accounts", "employees", ["ten", "1.5"], _data("accounts", "opportunities"))
    data["accounts"]["is_target"] = ["maybe", "yes"]
    data["opportunities"]["amount"] = ["12 yen", "1e3"]
    found = _problems(backend, data)
    assert [_summary(p) for p in found] == [
        ("accounts", "employees", "bad_type", 1, "A1"),
        ("accounts", "employees", "bad_type", 2, "A2"),
        ("accounts", "is_target", "bad_type", 1, "A1"),
        ("opportunities", "amount", "bad_type", 1, "O1"),
    ]
    assert [p.value for p in found] == ["ten", "1.5", "maybe", "12 yen"]


def test_bad_type_of_a_whole_typed_column(backend: str) -> None:
    frames = _frames(backend, _data("accounts"))
    stamps = [datetime(2025, 1, 1), None]
    if backend == "pandas":
        frames["accounts"] = frames["accounts"].assign(employees=pd.Series(stamps))
    else:
        frames["accounts"] = frames["accounts"].with_columns(employees=pl.Series(stamps))
    with pytest.raises(SchemaError) as err:
        validate_tables(frames)
    assert [_summary(p) for p in err.value.problems] == [
        ("accounts", "employees", "bad_type", 1, "A1")
    ]


def test_thousands_separator(backend: str) -> None:
    data = _changed("accounts", "employees", ["1,200", "12,5"])
    found = _problems(backend, data)
    assert [_summary(p) for p in found] == [
        ("accounts", "employees", "thousands_separator", 1, "A1"),
        ("accounts", "employees", "bad_type", 2, "A2"),
    ]
    assert found[0].hint is not None


def test_non_finite(backend: str) -> None:
    data = _changed("activities", "duration_s", ["inf", "-Infinity"])
    assert _found(backend, data) == [
        ("activities", "duration_s", "non_finite", 1, "X1"),
        ("activities", "duration_s", "non_finite", 2, "X2"),
    ]


def test_non_finite_typed_float(backend: str) -> None:
    frames = _frames(backend, _data("activities"))
    values = [np.inf, np.nan]
    if backend == "pandas":
        frames["activities"] = frames["activities"].assign(duration_s=values)
    else:
        frames["activities"] = frames["activities"].with_columns(duration_s=pl.Series(values))
    with pytest.raises(SchemaError) as err:
        validate_tables(frames)
    assert [_summary(p) for p in err.value.problems] == [
        ("activities", "duration_s", "non_finite", 1, "X1")
    ]


def test_unknown_enum(backend: str) -> None:
    data = _changed("leads", "origin", ["web", " Outbound "], _data("reps"))
    data["reps"]["role"] = ["boss", "FIELD"]
    found = _problems(backend, data)
    assert [_summary(p) for p in found] == [
        ("reps", "role", "unknown_enum", 1, "R1"),
        ("leads", "origin", "unknown_enum", 1, "L1"),
    ]
    assert found[1].value == "web"
    assert "inbound, outbound" in found[1].message


def test_unparseable_timestamp(backend: str) -> None:
    data = _changed("leads", "created_at", ["2025-02-30", "yesterday"], _data("activities"))
    data["activities"]["occurred_at"] = ["2025-13-01", "2025-04-01T25:00"]
    assert _found(backend, data) == [
        ("leads", "created_at", "unparseable_timestamp", 1, "L1"),
        ("leads", "created_at", "unparseable_timestamp", 2, "L2"),
        ("activities", "occurred_at", "unparseable_timestamp", 1, "X1"),
        ("activities", "occurred_at", "unparseable_timestamp", 2, "X2"),
    ]


def test_mixed_timestamp_zones_is_a_warning(backend: str) -> None:
    data = _changed("leads", "created_at", ["2025-04-01T00:30:00Z", "2025-04-02 09:00"])
    result = validate_tables(_frames(backend, data))
    assert [_summary(p) for p in result.warnings] == [
        ("leads", "created_at", "mixed_timestamp_zones", 2, "L2")
    ]
    created = _column(result, "leads", "created_at")
    assert created == [datetime(2025, 4, 1, 9, 30), datetime(2025, 4, 2, 9, 0)]


def test_mixed_offsets_without_naive_values_are_fine(backend: str) -> None:
    data = _changed("leads", "created_at", ["2025-04-01T00:30:00Z", "2025-04-01T10:30:00+10:00"])
    result = validate_tables(_frames(backend, data))
    assert result.warnings == []
    assert _column(result, "leads", "created_at") == [datetime(2025, 4, 1, 9, 30)] * 2


def test_implausible_date_is_a_warning(backend: str) -> None:
    data = _changed("leads", "created_at", ["1989-12-31 23:59", "2100-01-01"])
    result = validate_tables(_frames(backend, data))
    assert [_summary(p) for p in result.warnings] == [
        ("leads", "created_at", "implausible_date", 1, "L1"),
        ("leads", "created_at", "implausible_date", 2, "L2"),
    ]


def test_duplicate_id(backend: str) -> None:
    data = _changed("activities", "activity_id", ["X1", "X1"])
    data["activities"]["activity_id"] += ["X1"]
    for name, values in data["activities"].items():
        if name != "activity_id":
            values.append(values[0])
    found = _problems(backend, data)
    assert [_summary(p) for p in found] == [
        ("activities", "activity_id", "duplicate_id", 2, "X1"),
        ("activities", "activity_id", "duplicate_id", 3, "X1"),
    ]
    assert found[0].message == "duplicate key (first seen in row 1)"


def test_negative_value(backend: str) -> None:
    data = _changed("accounts", "employees", ["-1", "0"], _data("accounts", "activities"))
    data["activities"]["duration_s"] = ["-0.5", "0"]
    assert _found(backend, data) == [
        ("accounts", "employees", "negative_value", 1, "A1"),
        ("activities", "duration_s", "negative_value", 1, "X1"),
    ]


def test_out_of_range(backend: str) -> None:
    data = _changed("opportunities", "probability", ["1.5", "-0.1"], _data("reps", "opportunities"))
    data["reps"]["monthly_sql_capacity"] = ["0", "40"]
    found = _problems(backend, data)
    assert [_summary(p) for p in found] == [
        ("reps", "monthly_sql_capacity", "out_of_range", 1, "R1"),
        ("opportunities", "probability", "out_of_range", 1, "O1"),
        ("opportunities", "probability", "out_of_range", 2, "O2"),
    ]
    assert found[0].message == "must be > 0"
    assert found[1].message == "must be >= 0 and <= 1"


# ---------------------------------------------------------------- row rules


def test_validated_before_created(backend: str) -> None:
    # O1 created 2025-04-03 10:00: a date-only validation the same day is fine,
    # 09:59 the same day is not; O2 created 2025-04-04 (date-only): the day before fails
    data = _changed("opportunities", "validated_at", ["2025-04-03 09:59", "2025-04-03"])
    assert _found(backend, data) == [
        ("opportunities", "validated_at", "validated_before_created", 1, "O1"),
        ("opportunities", "validated_at", "validated_before_created", 2, "O2"),
    ]
    same_day = _changed("opportunities", "validated_at", ["2025-04-03", "2025-04-04 08:00"])
    assert _found(backend, same_day) == []


def test_plausibility_rules_are_warnings_and_keep_the_rows(backend: str) -> None:
    data = _changed("opportunities", "validated_at", ["2025-04-03 09:59", ""])
    data["opportunities"]["closed_at"] = ["2025-04-01", ""]
    data["opportunities"]["is_won"] = ["false", ""]
    result = validate_tables(_frames(backend, data))
    assert [(_summary(p), p.severity) for p in result.warnings] == [
        (("opportunities", "validated_at", "validated_before_created", 1, "O1"), "warning"),
        (("opportunities", "closed_at", "closed_before_created", 1, "O1"), "warning"),
    ]
    assert all(p.hint is not None and "strict" in p.hint for p in result.warnings)
    assert result.totals[("opportunities", "closed_at", "closed_before_created")] == 1
    opps = result.tables["opportunities"]
    assert list(opps["opportunity_id"]) == ["O1", "O2"]
    assert str(opps["closed_at"][0])[:10] == "2025-04-01"  # kept as given


def test_plausibility_rules_are_errors_when_strict(backend: str) -> None:
    data = _changed("opportunities", "closed_at", ["2025-04-01", ""])
    data["opportunities"]["is_won"] = ["false", ""]
    with pytest.raises(SchemaError) as err:
        validate_tables(_frames(backend, data), strict=True)
    assert [(_summary(p), p.severity) for p in err.value.problems] == [
        (("opportunities", "closed_at", "closed_before_created", 1, "O1"), "error")
    ]


def test_closed_before_created_compares_dates_when_date_only(backend: str) -> None:
    data = _changed("opportunities", "closed_at", ["2025-04-03", "2025-04-03 23:00"])
    data["opportunities"]["is_won"] = ["true", "false"]
    # O1: closed the creation day, date-only -> fine; O2 created 2025-04-04 (midnight,
    # read as a date): closed the day before -> error
    found = _problems(backend, data)
    assert [_summary(p) for p in found] == [
        ("opportunities", "closed_at", "closed_before_created", 2, "O2")
    ]
    assert found[0].message == "closed_at is before created_at (created_at 2025-04-04 00:00:00)"


def test_won_without_closed(backend: str) -> None:
    data = _changed("opportunities", "is_won", ["yes", "TRUE"])
    assert _found(backend, data) == [
        ("opportunities", "is_won", "won_without_closed", 2, "O2"),
    ]


def test_outcome_channel_mismatch(backend: str) -> None:
    data = _changed("activities", "outcome", ["held", "Connected"])
    found = _problems(backend, data)
    assert [_summary(p) for p in found] == [
        ("activities", "outcome", "outcome_channel_mismatch", 1, "X1"),
        ("activities", "outcome", "outcome_channel_mismatch", 2, "X2"),
    ]
    assert [p.message for p in found] == [
        "outcome not allowed for the channel (channel call)",
        "outcome not allowed for the channel (channel email)",
    ]


def test_activity_without_parent(backend: str) -> None:
    data = _changed("activities", "account_id", ["", "N/A"])
    data["activities"]["lead_id"] = ["L1", None]
    assert _found(backend, data) == [
        ("activities", "lead_id", "activity_without_parent", 2, "X2"),
    ]


# ------------------------------------------------------------- foreign keys


def test_orphan_foreign_keys_are_warnings(backend: str) -> None:
    data = _changed("activities", "lead_id", ["L9", "L2"], _data("reps", "activities"))
    data["leads"]["owner_id"] = ["R1", "R7"]
    result = validate_tables(_frames(backend, data))
    assert [_summary(p) for p in result.warnings] == [
        ("leads", "owner_id", "orphan_fk", 2, "L2"),
        ("activities", "lead_id", "orphan_fk", 1, "X1"),
    ]
    assert [p.severity for p in result.warnings] == ["warning", "warning"]
    assert len(result.tables["activities"]) == 2  # rows are kept


def test_orphan_foreign_keys_are_errors_when_strict(backend: str) -> None:
    data = _changed("activities", "lead_id", ["L9", "L2"])
    with pytest.raises(SchemaError) as err:
        validate_tables(_frames(backend, data), strict=True)
    assert [(_summary(p), p.severity) for p in err.value.problems] == [
        (("activities", "lead_id", "orphan_fk", 1, "X1"), "error")
    ]


def test_campaign_id_checked_only_when_campaigns_given(backend: str) -> None:
    data = _changed("leads", "campaign_id", ["C1", "C2"])
    assert _found(backend, data) == []
    data["campaigns"] = {"campaign_id": ["C1"]}
    assert _found(backend, data) == [("leads", "campaign_id", "orphan_fk", 2, "L2")]


def test_stage_changes_reference_opportunities(backend: str) -> None:
    data = _data("opportunities")
    data["stage_changes"] = {
        "opportunity_id": ["O1", "O3"],
        "stage": ["proposal", "won"],
        "entered_at": ["2025-04-05", "2025-04-06"],
    }
    assert _found(backend, data) == [("stage_changes", "opportunity_id", "orphan_fk", 2, None)]


# ------------------------------------------------------------ many problems


def test_several_problems_are_all_reported(backend: str) -> None:
    data = _changed(
        "leads", "origin", ["web", "inbound"], _data("accounts", "activities", "opportunities")
    )
    data["leads"]["created_at"] = ["2025-04-01", "later"]
    data["accounts"]["employees"] = ["1,000", "-3"]
    data["activities"]["outcome"] = ["sent", "sent"]
    data["opportunities"]["is_won"] = ["true", "true"]
    data["opportunities"]["lead_id"] = ["L1", "L8"]
    with pytest.raises(SchemaError) as err:
        validate_tables(_frames(backend, data))
    assert [_summary(p) for p in err.value.problems] == [
        ("accounts", "employees", "thousands_separator", 1, "A1"),
        ("accounts", "employees", "negative_value", 2, "A2"),
        ("leads", "created_at", "unparseable_timestamp", 2, "L2"),
        ("leads", "origin", "unknown_enum", 1, "L1"),
        ("activities", "outcome", "outcome_channel_mismatch", 1, "X1"),
        ("opportunities", "is_won", "won_without_closed", 2, "O2"),
        ("opportunities", "lead_id", "orphan_fk", 2, "O2"),
    ]
    assert len(err.value.errors) == 6
    assert len(err.value.warnings) == 1


def test_max_rows_caps_the_list_not_the_count(backend: str) -> None:
    n = 30
    leads = {
        "lead_id": [f"L{i}" for i in range(n)],
        "created_at": ["2025-04-01"] * n,
        "origin": ["web"] * n,
    }
    with pytest.raises(SchemaError) as err:
        validate_tables({"leads": _frame(backend, leads)}, max_rows=5)
    listed = [_summary(p) for p in err.value.problems]
    assert listed == [("leads", "origin", "unknown_enum", i + 1, f"L{i}") for i in range(5)]
    assert err.value.totals == {("leads", "origin", "unknown_enum"): n}
    assert "... and 25 more" in str(err.value)


def test_warning_totals_are_returned(backend: str) -> None:
    data = _changed("activities", "lead_id", ["L9", "L8"])
    data["activities"]["account_id"] = ["", ""]
    result = validate_tables(_frames(backend, data), max_rows=1)
    assert [_summary(p) for p in result.warnings] == [
        ("activities", "lead_id", "orphan_fk", 1, "X1")
    ]
    assert result.totals == {("activities", "lead_id", "orphan_fk"): 2}


# ------------------------------------------------------- canonical output


def _column(result: Validated, table: str, column: str) -> list[Any]:
    native = result.tables[table]
    values = native[column].to_list()
    return [None if v is pd.NaT or v is pd.NA or v != v else _plain(v) for v in values]


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


MESSY: Data = {
    "accounts": {
        "account_id": ["A1", "A2", "A3"],
        "employees": ["12.0", " 7 ", "N/A"],
        "annual_revenue": ["1e3", "NULL", "0.5"],
        "is_target": ["Yes", "0", ""],
        "region": ["na", "", " west"],
    },
    "leads": {
        "lead_id": ["L1", "L2", "L3"],
        "account_id": ["A1", "A2", "A3"],
        "created_at": ["2025/4/1", "2025-04-01T00:30:00Z", "2025-04-01 9:05"],
        "origin": [" Inbound", "OUTBOUND", "inbound"],
        "action_status": ["", "Working", "none"],
        "next_activity_on": ["2025/04/10", "", "2025-04-10T18:00"],
        "custom_score": ["a", "b", "c"],
    },
}


@pytest.fixture(scope="module")
def messy_results() -> dict[str, Validated]:
    return {b: validate_tables(_frames(b, MESSY)) for b in BACKENDS}


def test_canonical_values(messy_results: dict[str, Validated], backend: str) -> None:
    result = messy_results[backend]
    assert _column(result, "accounts", "employees") == [12, 7, None]
    assert _column(result, "accounts", "annual_revenue") == [1000.0, None, 0.5]
    assert _column(result, "accounts", "is_target") == [True, False, False]
    # text columns: the exact missing tokens (any case) are missing, values are not trimmed
    assert _column(result, "accounts", "region") == [None, None, " west"]
    assert _column(result, "leads", "created_at") == [
        datetime(2025, 4, 1),
        datetime(2025, 4, 1, 9, 30),
        datetime(2025, 4, 1, 9, 5),
    ]
    assert _column(result, "leads", "origin") == ["inbound", "outbound", "inbound"]
    assert _column(result, "leads", "action_status") == ["new", "working", "new"]
    assert _column(result, "leads", "next_activity_on") == [
        datetime(2025, 4, 10),
        None,
        datetime(2025, 4, 10),
    ]


def test_pandas_and_polars_agree(messy_results: dict[str, Validated]) -> None:
    for table in TABLES:
        pandas_frame = messy_results["pandas"].tables[table]
        polars_frame = messy_results["polars"].tables[table]
        assert list(pandas_frame.columns) == polars_frame.columns
        expected = pl.from_pandas(pandas_frame)
        assert expected.equals(polars_frame), table
    assert messy_results["pandas"].warnings == messy_results["polars"].warnings


def test_same_problems_on_pandas_and_polars() -> None:
    data = _changed("leads", "origin", ["web", "inbound"], _data("accounts", "activities"))
    data["accounts"]["employees"] = ["1,000", "x"]
    data["activities"]["occurred_at"] = ["2025-02-30", "2025-04-01Z"]
    assert _problems("pandas", data) == _problems("polars", data)


def test_pandas_dtypes_and_column_order(messy_results: dict[str, Validated]) -> None:
    for name, spec in TABLES.items():
        frame = messy_results["pandas"].tables[name]
        assert isinstance(frame, pd.DataFrame)
        canonical = [c.name for c in spec.columns]
        assert list(frame.columns)[: len(canonical)] == canonical
        assert {c: str(frame[c].dtype) for c in canonical} == {
            c.name: c.pandas_dtype for c in spec.columns
        }
    assert list(messy_results["pandas"].tables["leads"].columns)[-1] == "custom_score"


def test_polars_dtypes(messy_results: dict[str, Validated]) -> None:
    expected = {
        "str": pl.String,
        "enum": pl.String,
        "int": pl.Int64,
        "float": pl.Float64,
        "bool": pl.Boolean,
        "timestamp": pl.Datetime("us"),
        "date": pl.Datetime("us"),
    }
    for name, spec in TABLES.items():
        frame = messy_results["polars"].tables[name]
        assert isinstance(frame, pl.DataFrame)
        assert {c.name: frame.schema[c.name] for c in spec.columns} == {
            c.name: expected[c.kind] for c in spec.columns
        }


def test_extra_columns_are_kept_unchanged(backend: str) -> None:
    data = _data()
    data["leads"]["custom score"] = ["1,5", None]
    result = validate_tables(_frames(backend, data))
    assert list(result.tables["leads"].columns)[-1] == "custom score"
    assert _column(result, "leads", "custom score") == ["1,5", None]


# ------------------------------------------------------------- typed inputs


def test_typed_pandas_input() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": pd.Series(["L1", "L2"], dtype="string"),
            "account_id": [12.0, np.nan],  # ids read as floats by pd.read_csv
            "created_at": pd.to_datetime(["2025-04-01T00:30:00Z", "2025-04-01T01:00:00Z"]),
            "origin": pd.Categorical(["inbound", "Outbound"]),
            "next_activity_on": pd.Series(
                [datetime(2025, 4, 10).date(), None], dtype="date32[pyarrow]"
            ),
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": [12],
            "employees": pd.array([5], dtype="Int32"),
            "is_target": [1],
            "annual_revenue": pd.Series([10], dtype="int64[pyarrow]"),
        }
    )
    result = validate_tables({"leads": leads, "accounts": accounts})
    assert result.warnings == []
    assert _column(result, "leads", "account_id") == ["12", None]
    assert _column(result, "leads", "created_at") == [
        datetime(2025, 4, 1, 9, 30),
        datetime(2025, 4, 1, 10, 0),
    ]
    assert _column(result, "leads", "origin") == ["inbound", "outbound"]
    assert _column(result, "leads", "next_activity_on") == [datetime(2025, 4, 10), None]
    assert _column(result, "accounts", "is_target") == [True]
    assert _column(result, "accounts", "annual_revenue") == [10.0]


def test_pandas_object_columns_are_read_as_text() -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "created_at": pd.Series([datetime(2025, 4, 1, 9), "2025-04-02", None], dtype=object),
            "origin": ["inbound"] * 3,
        }
    )
    opportunities = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2"],
            "created_at": ["2025-04-03"] * 2,
            "is_won": pd.Series([False, None], dtype=object),
            "quantity": pd.Series([3, "4"], dtype=object),
        }
    )
    with pytest.raises(SchemaError) as err:
        validate_tables({"leads": leads, "opportunities": opportunities})
    assert [_summary(p) for p in err.value.problems] == [
        ("leads", "created_at", "required_value", 3, "L3")
    ]
    leads.loc[2, "created_at"] = "2025-04-03"
    result = validate_tables({"leads": leads, "opportunities": opportunities})
    assert _column(result, "leads", "created_at")[0] == datetime(2025, 4, 1, 9)
    assert _column(result, "opportunities", "is_won") == [False, None]
    assert _column(result, "opportunities", "quantity") == [3, 4]


def test_typed_polars_input() -> None:
    leads = pl.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "created_at": pl.Series(
                [datetime(2025, 4, 1), datetime(2025, 4, 1, 12)], dtype=pl.Datetime("ns", "UTC")
            ),
            "origin": pl.Series(["inbound", "outbound"], dtype=pl.Categorical),
            "recycle_on": pl.Series([datetime(2025, 5, 1).date(), None], dtype=pl.Date),
        }
    )
    accounts = pl.DataFrame({"account_id": ["A1"], "employees": pl.Series([3], dtype=pl.UInt8)})
    result = validate_tables({"leads": leads, "accounts": accounts})
    assert _column(result, "leads", "created_at") == [
        datetime(2025, 4, 1, 9),
        datetime(2025, 4, 1, 21),
    ]
    assert _column(result, "leads", "recycle_on") == [datetime(2025, 5, 1), None]
    assert result.tables["accounts"].schema["employees"] == pl.Int64


def test_pyarrow_input_gives_polars_output() -> None:
    leads = pa.table({"lead_id": ["L1"], "created_at": ["2025-04-01"], "origin": ["inbound"]})
    result = validate_tables({"leads": leads})
    assert isinstance(result.tables["leads"], pl.DataFrame)
    assert isinstance(result.tables["reps"], pl.DataFrame)


def test_pandas_index_is_ignored() -> None:
    leads = pd.DataFrame(_data()["leads"], index=[10, 5])
    result = validate_tables({"leads": leads})
    assert list(result.tables["leads"].index) == [0, 1]
    leads.loc[5, "origin"] = "web"
    with pytest.raises(SchemaError) as err:
        validate_tables({"leads": leads})
    assert [_summary(p) for p in err.value.problems] == [
        ("leads", "origin", "unknown_enum", 2, "L2")
    ]


SPELLINGS = {
    "2025-04-01": datetime(2025, 4, 1),
    "2025-4-1": datetime(2025, 4, 1),
    "2025/4/1 9:05": datetime(2025, 4, 1, 9, 5),
    "2025/04/01 09:05:07": datetime(2025, 4, 1, 9, 5, 7),
    "2025-04-01T09:30:00.123456": datetime(2025, 4, 1, 9, 30, 0, 123456),
    "2025-04-01T00:30:00Z": datetime(2025, 4, 1, 9, 30),
    "2025-04-01T09:30:00+0900": datetime(2025, 4, 1, 9, 30),
    "2025-04-01 09:30-05:00": datetime(2025, 4, 1, 23, 30),
    "2025-04-01 09:30:00 +09": datetime(2025, 4, 1, 9, 30),
    " 2025-04-01 ": datetime(2025, 4, 1),
}


def _leads_created(texts: list[str]) -> Data:
    return {
        "leads": {
            "lead_id": [f"L{i + 1}" for i in range(len(texts))],
            "created_at": texts,
            "origin": ["inbound"] * len(texts),
        }
    }


def test_timestamp_spellings(backend: str) -> None:
    result = validate_tables(_frames(backend, _leads_created(list(SPELLINGS))))
    # naive and offset values mixed: the naive ones are flagged, and read as Tokyo time
    assert {p.row for p in result.warnings} == {1, 2, 3, 4, 5, 10}
    assert _column(result, "leads", "created_at") == list(SPELLINGS.values())


def test_timestamp_spellings_rejected(backend: str) -> None:
    texts = ["20250401", "2025-04", "04/01/2025", "2025-04-01T09", "2025.04.01", "2025/04-01"]
    assert _found(backend, _leads_created(texts)) == [
        ("leads", "created_at", "unparseable_timestamp", i + 1, f"L{i + 1}")
        for i in range(len(texts))
    ]


def test_time_zone_option(backend: str) -> None:
    data = _changed("leads", "created_at", ["2025-04-01T00:30:00Z", "2025-04-01T00:30:00+09:00"])
    result = validate_tables(_frames(backend, data), tz="UTC")
    assert _column(result, "leads", "created_at") == [
        datetime(2025, 4, 1, 0, 30),
        datetime(2025, 3, 31, 15, 30),
    ]


def test_tz_aware_pandas_column_is_converted() -> None:
    leads = pd.DataFrame(_data()["leads"])
    leads["created_at"] = pd.to_datetime(["2025-04-01T00:30:00Z", "2025-04-01T12:00:00Z"])
    result = validate_tables({"leads": leads}, tz="Asia/Tokyo")
    assert _column(result, "leads", "created_at") == [
        datetime(2025, 4, 1, 9, 30),
        datetime(2025, 4, 1, 21, 0),
    ]


# ------------------------------------------------------------- no mutation


def test_inputs_are_not_mutated(backend: str) -> None:
    data = _changed("leads", "origin", [" Inbound ", "OUTBOUND"])
    frames = _frames(backend, data)
    if backend == "pandas":
        frames["leads"].index = [7, 3]
    before = {
        name: frame.clone() if backend == "polars" else frame.copy(deep=True)
        for name, frame in frames.items()
    }
    validate_tables(frames)
    for name, frame in frames.items():
        if backend == "pandas":
            pd.testing.assert_frame_equal(frame, before[name])
        else:
            assert frame.equals(before[name])


def test_outputs_do_not_share_state_between_calls() -> None:
    first = validate_tables(_frames("pandas", _data()))
    first.tables["campaigns"].loc[0] = ["C1", None, None, pd.NaT]
    second = validate_tables(_frames("pandas", _data()))
    assert len(second.tables["campaigns"]) == 0


# ------------------------------------------------------------------ options


def test_invalid_options() -> None:
    frames = _frames("pandas", _data())
    with pytest.raises(ConfigError, match="tz="):
        validate_tables(frames, tz="Mars/Base")
    with pytest.raises(ConfigError, match="max_rows"):
        validate_tables(frames, max_rows=-1)


def test_mixed_libraries_are_rejected() -> None:
    frames = _frames("pandas", _data("reps"))
    frames["reps"] = pl.from_pandas(frames["reps"])
    with pytest.raises(ConfigError, match="mix pandas and polars"):
        validate_tables(frames)


def test_non_frame_input_is_rejected() -> None:
    with pytest.raises(ConfigError, match="not a pandas or polars DataFrame"):
        validate_tables({"leads": [{"lead_id": "L1"}]})
