"""The lead journey: hand-computed rows, invariants by construction, engines agree."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import Activity, Lead, Opportunity, SchemaError, from_objects, journey
from pipelinekit.domain import CHANNEL_OUTCOMES
from pipelinekit.journey import JOURNEY_COLUMNS

from .tiny import AS_OF, tiny_dataset


def tiny_journey(**kwargs: object) -> pd.DataFrame:
    ds = tiny_dataset()
    return journey(ds.leads, ds.activities, ds.opportunities, **kwargs).set_index("lead_id")


def test_hand_computed_rows_as_of() -> None:
    j = tiny_journey(as_of=AS_OF)
    assert list(j.index) == ["L1", "L2", "L3", "L4", "L6"]  # L5 created after as_of
    l1 = j.loc["L1"]
    assert l1["first_touch_at"] == pd.Timestamp("2025-04-01 10:00")
    assert l1["first_connect_at"] == pd.Timestamp("2025-04-01 10:00")
    assert l1["sql_at"] == pd.Timestamp("2025-04-03 10:00")  # earliest of O1, O2
    assert l1["validated_at"] == pd.Timestamp("2025-04-05 10:00")
    assert l1["won_at"] == pd.Timestamp("2025-04-20 10:00")
    assert l1["won_amount"] == 1_000_000.0  # O1 won; O2 lost
    assert l1["opportunity_count"] == 2
    assert (l1["touch_count"], l1["call_count"], l1["email_count"]) == (1, 1, 0)  # a10 after as_of
    l3 = j.loc["L3"]
    assert pd.isna(l3["validated_at"])  # O3 validated after as_of
    assert l3["first_connect_at"] == pd.Timestamp("2025-04-04 12:00")  # inbound reply
    assert (l3["touch_count"], l3["email_count"], l3["connect_count"]) == (2, 2, 1)
    l4 = j.loc["L4"]
    assert pd.isna(l4["first_touch_at"])  # only an inbound call
    assert l4["first_connect_at"] == pd.Timestamp("2025-04-10 09:00")  # before created_at
    assert l4["opportunity_count"] == 0  # O5 created after as_of
    l6 = j.loc["L6"]
    assert (l6["call_count"], l6["email_count"], l6["connect_count"]) == (6, 2, 1)
    assert pd.isna(l6["won_at"])
    assert l6["won_amount"] == 0.0


def test_without_as_of_keeps_everything() -> None:
    j = tiny_journey()
    assert "L5" in j.index
    assert j.loc["L1", "touch_count"] == 2  # a10 now counts
    assert j.loc["L4", "opportunity_count"] == 1


def test_columns_and_dtypes() -> None:
    ds = tiny_dataset()
    j = journey(ds.leads, ds.activities, ds.opportunities)
    assert list(j.columns) == list(ds.leads.columns) + list(JOURNEY_COLUMNS)
    assert str(j["first_touch_at"].dtype) == "datetime64[us]"
    assert str(j["touch_count"].dtype) == "int64"


def test_missing_columns_are_reported_together() -> None:
    ds = tiny_dataset()
    with pytest.raises(SchemaError) as info:
        journey(ds.leads, ds.activities.drop(columns=["channel", "outcome"]), ds.opportunities)
    assert [(p.table, p.column) for p in info.value.problems] == [
        ("activities", "channel"),
        ("activities", "outcome"),
    ]


def test_tz_aware_input_is_converted_to_dataset_time() -> None:
    ds = tiny_dataset()
    leads = ds.leads.copy()
    leads["created_at"] = leads["created_at"].dt.tz_localize("Asia/Tokyo").dt.tz_convert("UTC")
    j = journey(leads, ds.activities, ds.opportunities)
    assert j.loc[j.lead_id == "L1", "created_at"].iloc[0] == pd.Timestamp("2025-04-01 09:00")


# --- invariants on generated datasets -------------------------------------------------

T0 = datetime(2025, 1, 1)


@st.composite
def small_dataset(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(min_value=1, max_value=8))
    offsets = st.integers(min_value=0, max_value=60 * 24 * 30)
    leads = [
        Lead(
            lead_id=f"L{i}",
            created_at=T0 + timedelta(minutes=draw(offsets)),
            origin=draw(st.sampled_from(["inbound", "outbound"])),
        )
        for i in range(n)
    ]
    acts = []
    for k in range(draw(st.integers(min_value=0, max_value=20))):
        channel = draw(st.sampled_from(list(CHANNEL_OUTCOMES)))
        acts.append(
            Activity(
                activity_id=f"A{k}",
                lead_id=draw(st.sampled_from([None, *[x.lead_id for x in leads]])),
                account_id="ACC",
                occurred_at=T0 + timedelta(minutes=draw(offsets)),
                channel=channel,
                direction=draw(st.sampled_from(["inbound", "outbound"])),
                outcome=draw(st.sampled_from(CHANNEL_OUTCOMES[channel])),
            )
        )
    opps = []
    for k in range(draw(st.integers(min_value=0, max_value=6))):
        created = T0 + timedelta(minutes=draw(offsets))
        closed = draw(st.none() | st.just(created + timedelta(days=draw(st.integers(0, 90)))))
        opps.append(
            Opportunity(
                opportunity_id=f"O{k}",
                lead_id=draw(st.sampled_from([None, *[x.lead_id for x in leads]])),
                created_at=created,
                closed_at=closed,
                is_won=None if closed is None else draw(st.booleans()),
                validated_at=draw(st.none() | st.just(created + timedelta(days=1))),
                amount=draw(st.none() | st.floats(min_value=0, max_value=1e7)),
            )
        )
    return (
        from_objects(leads, Lead),
        from_objects(acts, Activity),
        from_objects(opps, Opportunity),
    )


@settings(max_examples=60, deadline=None)
@given(small_dataset(), st.randoms(use_true_random=False))
def test_journey_invariants(data: tuple[pd.DataFrame, ...], rnd: object) -> None:
    leads, acts, opps = data
    before = [frame.copy(deep=True) for frame in data]
    j = journey(leads, acts, opps)
    counts = j[
        [
            "touch_count",
            "call_count",
            "email_count",
            "meeting_count",
            "connect_count",
            "opportunity_count",
        ]
    ]
    assert (counts >= 0).all().all()
    assert (j["touch_count"] == j["call_count"] + j["email_count"] + j["meeting_count"]).all()
    assert len(j) == len(leads)
    assert j["lead_id"].is_unique
    # a won lead has an SQL; a validated lead has an SQL
    assert j.loc[j["won_at"].notna(), "sql_at"].notna().all()
    assert (j.loc[j["won_at"].notna(), "opportunity_count"] > 0).all()
    # a connected lead has at least one connect activity
    assert (j.loc[j["first_connect_at"].notna(), "connect_count"] >= 1).all()
    assert j.loc[j["connect_count"] == 0, "first_connect_at"].isna().all()
    # row order of the inputs doesn't change the journey
    shuffled = journey(
        leads.sample(frac=1, random_state=1),
        acts.sample(frac=1, random_state=2),
        opps.sample(frac=1, random_state=3),
    )
    pd.testing.assert_frame_equal(j, shuffled)
    # pandas and polars agree
    pol = journey(pl.from_pandas(leads), pl.from_pandas(acts), pl.from_pandas(opps))
    pd.testing.assert_frame_equal(j, pol.to_pandas(), check_dtype=False)
    # inputs are not mutated
    for frame, copy in zip(data, before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)
