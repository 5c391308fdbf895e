"""Campaign attribution: touches, the six models by hand, exactness and properties."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipelinekit as pk
from pipelinekit import ConfigError
from pipelinekit.metrics.attribution import MODELS, campaign_attribution, opportunity_attribution

from ..strategies import campaign_members, datasets


def ts(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601"), dtype="datetime64[us]")


def leads_frame(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series([r[0] for r in rows], dtype="str"),
            "created_at": ts([r[1] for r in rows]),
            "campaign_id": pd.Series([r[2] for r in rows], dtype="str"),
        }
    )


def opps_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """(opportunity_id, lead_id, created_at, amount, closed_at, is_won, validated_at)."""
    padded = [(*r, *(None,) * (7 - len(r))) for r in rows]
    return pd.DataFrame(
        {
            "opportunity_id": pd.Series([r[0] for r in padded], dtype="str"),
            "lead_id": pd.Series([r[1] for r in padded], dtype="str"),
            "created_at": ts([r[2] for r in padded]),
            "amount": pd.Series([r[3] for r in padded], dtype="float64"),
            "closed_at": ts([r[4] for r in padded]),
            "is_won": pd.array([r[5] for r in padded], dtype="boolean"),
            "validated_at": ts([r[6] for r in padded]),
        }
    )


def members_frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series([r[0] for r in rows], dtype="str"),
            "campaign_id": pd.Series([r[1] for r in rows], dtype="str"),
            "responded_at": ts([r[2] for r in rows]),
        }
    )


# L1 created 04-10; its opportunity on 04-30. Touches (ages from 04-30 in days):
# C1 04-09 (21, before the lead: first touch), C2 04-10 00:00 (20, at creation: the
# lead-creation touch), C3 04-16 (14), C4 04-23 (7), C5 04-30 (0, at the opportunity:
# last). C2 responded again on 04-20 (the earliest counts), C6 after the opportunity,
# C7 too early (91 days).
LEADS = leads_frame([("L1", "2025-04-10 00:00", "C2"), ("L2", "2025-04-01 00:00", None)])
OPPS = opps_frame(
    [
        ("O1", "L1", "2025-04-30 00:00", 1000.0, "2025-05-20", True, "2025-05-02"),
        ("O2", "L2", "2025-04-05 00:00", None),  # no touch: unattributed
    ]
)
MEMBERS = members_frame(
    [
        ("L1", "C1", "2025-04-09 00:00"),
        ("L1", "C2", "2025-04-10 00:00"),
        ("L1", "C2", "2025-04-20 00:00"),
        ("L1", "C3", "2025-04-16 00:00"),
        ("L1", "C4", "2025-04-23 00:00"),
        ("L1", "C5", "2025-04-30 00:00"),
        ("L1", "C6", "2025-04-30 00:00:01"),
        ("L1", "C7", "2025-01-29 23:59:59"),
    ]
)


def ids(values: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in values]


def weights(model: str, **kw: Any) -> dict[str, tuple[Any, Any, float]]:
    out = opportunity_attribution(
        kw.pop("leads", LEADS),
        kw.pop("opps", OPPS),
        campaign_members=kw.pop("members", MEMBERS),
        as_of="2025-06-30",
        models=model,
        **kw,
    )
    o1 = out[out["opportunity_id"] == "O1"]
    return {
        c: (n, d, w)
        for c, n, d, w in zip(
            o1["campaign_id"],
            o1["weight_numerator"],
            o1["weight_denominator"],
            o1["weight"],
            strict=True,
        )
    }


def fractions(got: dict[str, tuple[Any, Any, float]]) -> dict[str, Fraction]:
    return {c: Fraction(int(n), int(d)) for c, (n, d, _) in got.items()}


def test_touches_window_and_order() -> None:
    out = opportunity_attribution(LEADS, OPPS, campaign_members=MEMBERS, as_of="2025-06-30")
    o1 = out[(out["model"] == "linear") & (out["opportunity_id"] == "O1")]
    # C6 responded after the opportunity, C7 more than 90 days before it
    assert o1["campaign_id"].tolist() == ["C1", "C2", "C3", "C4", "C5"]
    assert o1["position"].tolist() == [1, 2, 3, 4, 5]
    assert (o1["touch_count"] == 5).all()
    # C2's earliest response counts
    assert o1["responded_at"].iloc[1] == pd.Timestamp("2025-04-10 00:00")
    # the lower end of the window is inclusive: exactly 90 days is a touch
    edge = MEMBERS.copy()
    edge.loc[7, "responded_at"] = pd.Timestamp("2025-01-30 00:00")
    got = weights("linear", members=edge)
    assert "C7" in got


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first", {"C1": Fraction(1), "C2": 0, "C3": 0, "C4": 0, "C5": 0}),
        ("last", {"C1": 0, "C2": 0, "C3": 0, "C4": 0, "C5": Fraction(1)}),
        ("linear", dict.fromkeys(("C1", "C2", "C3", "C4", "C5"), Fraction(1, 5))),
        # 2/5 first, 2/5 last, 1/5 shared by the 3 middle touches
        (
            "u_shaped",
            {
                "C1": Fraction(2, 5),
                "C5": Fraction(2, 5),
                **dict.fromkeys(("C2", "C3", "C4"), Fraction(1, 15)),
            },
        ),
        # key touches {first C1, lead creation C2, last C5}: 9/30 each; rest 1/20 each
        (
            "w_shaped",
            {
                "C1": Fraction(3, 10),
                "C2": Fraction(3, 10),
                "C5": Fraction(3, 10),
                "C3": Fraction(1, 20),
                "C4": Fraction(1, 20),
            },
        ),
    ],
)
def test_exact_models_by_hand(model: str, expected: dict[str, Fraction]) -> None:
    got = fractions(weights(model))
    assert got == expected
    assert sum(got.values()) == 1


def test_time_decay_by_hand() -> None:
    got = weights("time_decay", half_life=7)
    # ages 21, 20, 14, 7, 0 days -> 2^-3, 2^(-20/7), 2^-2, 2^-1, 1
    raw = {"C1": 2**-3, "C2": 2 ** (-20 / 7), "C3": 2**-2, "C4": 2**-1, "C5": 1.0}
    total = sum(raw.values())
    assert {c: w for c, (_, _, w) in got.items()} == pytest.approx(
        {c: v / total for c, v in raw.items()}, rel=1e-12
    )
    assert all(n is None or pd.isna(n) for n, _, _ in got.values())


def test_w_shaped_without_role_stacking() -> None:
    # the lead-creation touch is the first touch: key touches are {first, last} only
    members = MEMBERS[MEMBERS["campaign_id"] != "C1"]
    got = fractions(weights("w_shaped", members=members))
    # M = {C2, C5}, R = {C3, C4}: 9/20 each key touch, 1/20 each other touch
    assert got == {
        "C2": Fraction(9, 20),
        "C5": Fraction(9, 20),
        "C3": Fraction(1, 20),
        "C4": Fraction(1, 20),
    }
    # three touches with the lead-creation touch first: M = {C2, C5}, R = {C4}
    three = members[members["campaign_id"].isin(["C2", "C4", "C5"])]
    assert fractions(weights("w_shaped", members=three)) == {
        "C2": Fraction(9, 20),
        "C5": Fraction(9, 20),
        "C4": Fraction(1, 10),
    }
    # three touches, each a key touch (first, lead creation, last): 1/3 each
    keys = MEMBERS[MEMBERS["campaign_id"].isin(["C1", "C2", "C5"])]
    assert fractions(weights("w_shaped", members=keys)) == dict.fromkeys(
        ("C1", "C2", "C5"), Fraction(1, 3)
    )


@pytest.mark.parametrize("model", MODELS)
def test_one_touch_gets_full_credit_and_two_touches_half(model: str) -> None:
    one = MEMBERS[MEMBERS["campaign_id"] == "C3"]
    assert {c: w for c, (_, _, w) in weights(model, members=one).items()} == {"C3": 1.0}
    two = MEMBERS[MEMBERS["campaign_id"].isin(["C3", "C4"])]
    got = {c: w for c, (_, _, w) in weights(model, members=two).items()}
    if model in ("u_shaped", "w_shaped", "linear"):
        assert got == {"C3": 0.5, "C4": 0.5}
    assert sum(got.values()) == pytest.approx(1.0)


def test_campaign_credit_for_sqls_valid_wins_and_amounts() -> None:
    credit = campaign_attribution(LEADS, OPPS, campaign_members=MEMBERS, as_of="2025-06-30")
    linear = credit[credit["model"] == "linear"].set_index("campaign_id", drop=False)
    # O1 (valid, won, 1,000) split 1/5 each; O2 (no touch, no amount) unattributed
    assert linear.loc["C3", "sql_credit"] == pytest.approx(0.2)
    assert linear.loc["C3", "won_amount_credit"] == pytest.approx(200.0)
    assert linear.loc["C3", "valid_credit"] == pytest.approx(0.2)
    unattributed = linear[linear["campaign_id"].isna()].iloc[0]
    assert (unattributed["sql_credit"], unattributed["sql_amount_credit"]) == (1.0, 0.0)
    assert unattributed["opportunity_count"] == 1
    for model, part in credit.groupby("model"):
        # credited + unattributed = SQL count; amounts add up to the SQL amounts
        assert part["sql_credit"].sum() == pytest.approx(2.0), model
        assert part["won_credit"].sum() == pytest.approx(1.0), model
        assert part["won_amount_credit"].sum() == pytest.approx(1000.0), model


def test_fallback_to_the_lead_campaign_and_the_cut_off() -> None:
    credit = campaign_attribution(LEADS, OPPS, as_of="2025-06-30", models="first")
    # L1's campaign C2 at its creation (20 days before O1) is its only touch
    assert ids(credit["campaign_id"]) == ["C2", None]
    assert credit["sql_credit"].tolist() == [1.0, 1.0]
    before = campaign_attribution(LEADS, OPPS, as_of="2025-04-29", models="first")
    assert ids(before["campaign_id"]) == [None]  # O1 is created after the cut-off
    # with a 10-day lookback the lead's campaign (20 days earlier) is not a touch
    short = campaign_attribution(LEADS, OPPS, as_of="2025-06-30", models="first", lookback=10)
    assert ids(short["campaign_id"]) == [None]
    assert short["sql_credit"].tolist() == [2.0]


def test_this_quarters_won_amount_by_close_period() -> None:
    credit = campaign_attribution(
        LEADS,
        OPPS,
        campaign_members=MEMBERS,
        as_of="2025-06-30",
        models=["first", "last"],
        freq="quarter",
        period_column="closed_at",
    )
    q2 = credit[credit["period"] == pd.Timestamp("2025-04-01")]
    won = q2[q2["won_amount_credit"] > 0][["model", "campaign_id", "won_amount_credit"]]
    assert won.values.tolist() == [["first", "C1", 1000.0], ["last", "C5", 1000.0]]
    assert credit["period"].isna().any()  # O2 is open: no close period


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": ["linear", "linear"]}, "must not repeat"),
        ({"models": "shapley"}, "models must be one of"),
        ({"half_life": 0}, "half_life must be a positive"),
        ({"lookback": 0}, "lookback must be an integer >= 1"),
        ({"period_column": "updated_at"}, "period_column must be one of"),
        ({"by": "model"}, "output column name"),
    ],
)
def test_bad_parameters(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        campaign_attribution(LEADS, OPPS, campaign_members=MEMBERS, as_of="2025-06-30", **kwargs)


def test_bundled_sample_credits_add_up_exactly() -> None:
    ds = pk.sample_dataset()
    drill = opportunity_attribution(
        ds.leads, ds.opportunities, campaign_members=ds.campaign_members, as_of="2025-12-31"
    )
    opps = ds.opportunities
    sqls = int((opps["lead_id"].notna() & (opps["created_at"] < "2026-01-01")).sum())
    for model, part in drill[drill["model"] != "time_decay"].groupby("model"):
        per_opp = part.groupby("opportunity_id").apply(
            lambda g: sum(
                Fraction(int(n), int(d))
                for n, d in zip(g["weight_numerator"], g["weight_denominator"], strict=True)
            ),
            include_groups=False,
        )
        assert (per_opp == 1).all(), model
        assert len(per_opp) == sqls, model  # every opportunity: credited or unattributed


PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def attribution_data(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    tables = draw(datasets(max_leads=5, max_opportunities=6))
    tables["campaign_members"] = draw(campaign_members(tables["leads"]))
    return tables


@PROPERTY
@given(
    attribution_data(),
    st.dates(date(2025, 1, 10), date(2025, 8, 1)),
    st.sampled_from([None, 7, 90]),
)
def test_weights_sum_to_one_and_amounts_are_conserved(
    tables: dict[str, pd.DataFrame], as_of: date, lookback: int | None
) -> None:
    kw: dict[str, Any] = {
        "campaign_members": tables["campaign_members"],
        "as_of": as_of,
        "lookback": lookback,
    }
    drill = opportunity_attribution(tables["leads"], tables["opportunities"], **kw)
    for (model, _), part in drill.groupby(["model", "opportunity_id"]):
        if model == "time_decay":
            assert part["weight"].sum() == pytest.approx(1.0, rel=1e-12)
            continue
        assert int(part["weight_numerator"].sum()) == int(part["weight_denominator"].iloc[0])
        assert part["weight_denominator"].nunique() == 1
    opps = tables["opportunities"]
    scope = opps[
        opps["lead_id"].notna() & (opps["created_at"] < pd.Timestamp(as_of) + pd.Timedelta(days=1))
    ]
    credit = campaign_attribution(tables["leads"], tables["opportunities"], **kw)
    amount = scope["amount"].fillna(0.0).sum()
    for model, part in credit.groupby("model"):
        assert part["sql_credit"].sum() == pytest.approx(len(scope)), model
        assert part["sql_amount_credit"].sum() == pytest.approx(amount), model
        attributed = part[part["campaign_id"].notna()]
        touched = scope[
            ~scope["opportunity_id"].isin(
                drill[(drill["model"] == model) & drill["campaign_id"].isna()]["opportunity_id"]
            )
        ]
        assert attributed["sql_amount_credit"].sum() == pytest.approx(
            touched["amount"].fillna(0.0).sum()
        ), model
