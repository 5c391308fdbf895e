"""Account fit scoring: beta-smoothed segment win rates worked by hand, ranks, engines."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelinekit import Account, ConfigError, Lead, Opportunity, SchemaError
from pipelinekit.metrics.scoring import (
    REVENUE_BANDS,
    account_fit_scores,
    revenue_band,
    target_suggestions,
)
from pipelinekit.schema import from_objects

from .test_abm import normalise, to_duckdb

AS_OF = date(2025, 6, 30)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _opp(
    oid: str,
    account: str | None,
    *,
    won: bool | None,
    closed: str | None = "2025-03-01",
    created: str = "2025-01-15",
    lead: str | None = None,
) -> Opportunity:
    return Opportunity(
        opportunity_id=oid,
        account_id=account,
        lead_id=lead,
        created_at=t(created),
        closed_at=None if closed is None else t(closed),
        is_won=won,
    )


def tiny() -> dict[str, pd.DataFrame]:
    accounts = [
        Account(account_id="S1", industry="it", employees=50, annual_revenue=5e8),
        Account(account_id="S2", industry="it", employees=60, annual_revenue=6e8),
        Account(account_id="S3", industry="retail", employees=20, annual_revenue=5e7),
        Account(account_id="S4", industry="retail", employees=25, annual_revenue=6e7),
        Account(account_id="S5", industry="finance", employees=2000, annual_revenue=2e10),
        Account(account_id="S6", industry="finance"),  # no size known
    ]
    opportunities = [
        _opp("P1", "S1", won=True),
        _opp("P2", "S1", won=False),
        _opp("P3", "S1", won=True),
        _opp("P4", "S2", won=True),
        _opp("P5", "S2", won=True),
        _opp("P6", "S2", won=None),  # closed with is_won missing: lost
        _opp("P7", "S3", won=False),
        _opp("P8", "S3", won=False),
        _opp("P9", "S3", won=False),
        _opp("P10", "S3", won=None, closed=None),  # open: no history yet
        _opp("P11", "S4", won=True),
        _opp("P12", "S4", won=True, closed="2025-07-15"),  # closed after as_of
        _opp("P13", "S5", won=True),
        _opp("P14", None, won=False, lead="LX"),  # account only through its lead (S6)
        _opp("P15", "ZZ", won=True),  # account not in the accounts table: no attributes
        _opp("P16", "S3", won=True, created="2025-07-05", closed="2025-07-10"),  # after as_of
    ]
    leads = [Lead(lead_id="LX", account_id="S6", created_at=t("2025-01-02"), origin="inbound")]
    return {
        "accounts": from_objects(accounts, Account),
        "opportunities": from_objects(opportunities, Opportunity),
        "leads": from_objects(leads, Lead),
    }


def three(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in ("accounts", "opportunities", "leads")}


# With leads: history per segment (industry x employee band x revenue band), as of 06-30
#   it / 31-299 / 100M-1B      S1 S2  closed P1-P6 = 6, won P1 P3 P4 P5 = 4
#   retail / 1-30 / <100M      S3 S4  closed P7-P9 P11 = 4, won P11 = 1 (P10 open, P12 P16 late)
#   finance / 1000+ / 10B+     S5     closed 1, won 1
#   finance / - / -            S6     closed P14 (via lead LX) = 1, won 0
# p0 = 6 won / 12 closed = 0.5 (P15's account ZZ has no attributes and is left out);
# s = 10: a = s p0 = 5, b = s (1 - p0) = 5, score = (won + a) / (closed + a + b):
EXPECTED_WITH_LEADS = {
    "S1": (4, 6, 9 / 16),  # (4 + 5) / (6 + 10) = 0.5625  (raw 0.667)
    "S2": (4, 6, 9 / 16),
    "S5": (1, 1, 6 / 11),  # (1 + 5) / (1 + 10) = 0.5455  (raw 1.0, but one deal only)
    "S6": (0, 1, 5 / 11),  # (0 + 5) / (1 + 10) = 0.4545
    "S3": (1, 4, 6 / 14),  # (1 + 5) / (4 + 10) = 0.4286
    "S4": (1, 4, 6 / 14),
}


def test_scores_by_hand_with_leads() -> None:
    out = account_fit_scores(**three(tiny()), as_of=AS_OF)
    assert list(out.columns) == [
        "rank",
        "account_id",
        "name",
        "is_target",
        "is_customer",
        "industry",
        "employee_band",
        "revenue_band",
        "segment_account_count",
        "numerator",
        "denominator",
        "rate",
        "ci_low",
        "ci_high",
        "prior_rate",
        "score",
    ]
    # ranked by score, ties (S1/S2, S3/S4) by account_id; the 1-of-1 segment is not first
    assert out["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert out["account_id"].tolist() == list(EXPECTED_WITH_LEADS)
    for row in out.itertuples(index=False):
        won, closed, score = EXPECTED_WITH_LEADS[row.account_id]
        assert (row.numerator, row.denominator) == (won, closed)
        assert row.score == pytest.approx(score)
        assert row.prior_rate == pytest.approx(0.5)
    rows = out.set_index("account_id")
    assert rows.loc["S6", ["employee_band", "revenue_band"]].isna().all()  # unknown = own segment
    assert rows.loc["S5", "rate"] == 1.0
    assert rows.loc["S3", "rate"] == 0.25
    assert rows["segment_account_count"].tolist() == [2, 2, 1, 1, 2, 2]
    # customers: a won opportunity closed by as_of (S3's P16 is later, S4's P11 counts)
    assert rows["is_customer"].to_dict() == {
        "S1": True,
        "S2": True,
        "S5": True,
        "S6": False,
        "S3": False,
        "S4": True,
    }


def test_scores_by_hand_without_leads() -> None:
    data = tiny()
    out = account_fit_scores(data["accounts"], data["opportunities"], as_of=AS_OF)
    # P14 has no account without the leads table: p0 = 6 / 11, a = 60/11, b = 50/11
    scores = dict(zip(out["account_id"], out["score"], strict=False))
    assert scores["S1"] == pytest.approx((4 + 60 / 11) / 16)  # 0.5909
    assert scores["S5"] == pytest.approx((1 + 60 / 11) / 11)  # 0.5868
    assert scores["S6"] == pytest.approx(6 / 11)  # no history: the prior mean p0
    assert scores["S3"] == pytest.approx((1 + 60 / 11) / 14)  # 0.4610
    assert out["account_id"].tolist() == ["S1", "S2", "S5", "S6", "S3", "S4"]


def test_weak_prior_lets_the_tiny_segment_rank_first() -> None:
    out = account_fit_scores(**three(tiny()), prior_strength=0.001, as_of=AS_OF)
    assert out["account_id"].iloc[0] == "S5"  # what beta smoothing prevents by default


def test_target_suggestions_exclude_customers() -> None:
    data = tiny()
    out = target_suggestions(**three(data), as_of=AS_OF)
    assert out[["rank", "account_id"]].values.tolist() == [[1, "S6"], [2, "S3"]]
    everyone = target_suggestions(**three(data), top=3, exclude_customers=False, as_of=AS_OF)
    assert everyone["account_id"].tolist() == ["S1", "S2", "S5"]
    accounts = data["accounts"].assign(is_target=[False, False, False, False, False, True])
    untargeted = target_suggestions(
        accounts, data["opportunities"], leads=data["leads"], exclude_targets=True, as_of=AS_OF
    )
    assert untargeted["account_id"].tolist() == ["S3"]  # S6 is already a target


def test_segments_by_industry_and_extra_columns() -> None:
    data = tiny()
    by_industry = account_fit_scores(**three(data), by=("industry",), as_of=AS_OF)
    # finance = S5 (1 of 1) + S6 (0 of 1): (1 + 5) / (2 + 10) = 0.5
    assert by_industry.set_index("account_id").loc["S5", "score"] == pytest.approx(0.5)
    accounts = data["accounts"].assign(partner=["y", "n", "y", "y", "n", "n"])
    split = account_fit_scores(
        accounts,
        data["opportunities"],
        leads=data["leads"],
        by=("industry",),
        extra=("partner",),
        as_of=AS_OF,
    )
    rows = split.set_index("account_id")
    # it/y = S1 (2 of 3): (2 + 5) / (3 + 10); it/n = S2 (2 of 3) too
    assert rows.loc["S1", "score"] == pytest.approx(7 / 13)
    assert rows.loc["S1", "segment_account_count"] == 1
    assert list(split.columns[5:7]) == ["industry", "partner"]


def test_no_history_gives_null_scores_ranked_by_account_id() -> None:
    data = tiny()
    opps = data["opportunities"].iloc[0:0]
    out = account_fit_scores(data["accounts"], opps, as_of=AS_OF)
    assert out["score"].isna().all()
    assert out["prior_rate"].isna().all()
    assert out["account_id"].tolist() == ["S1", "S2", "S3", "S4", "S5", "S6"]


def test_revenue_band_default_scheme() -> None:
    assert [label for label, _ in REVENUE_BANDS] == ["<100M", "100M-1B", "1B-10B", "10B+"]
    import narwhals as nw

    frame = nw.from_native(pd.DataFrame({"annual_revenue": [0.0, 1e8, 1e9, 1e10, 1e11]}))
    assert frame.select(revenue_band()).to_native()["revenue_band"].tolist() == [
        "<100M",
        "100M-1B",
        "1B-10B",
        "10B+",
        "10B+",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"by": ("industry", "size")}, "by must contain only"),
        ({"extra": ("score",)}, "extra"),
        ({"by": ("industry",), "extra": ("industry",)}, "repeat"),
        ({"prior_strength": 0}, "prior_strength"),
        ({"prior_strength": math.inf}, "prior_strength"),
        ({"zero_division": "none"}, "zero_division"),
        ({"revenue_bands": (("a", 5), ("b", 1))}, "revenue_bands"),
        ({"as_of": "June"}, "as_of"),
    ],
)
def test_parameters_are_validated(kwargs: dict[str, Any], message: str) -> None:
    options: dict[str, Any] = {"as_of": AS_OF, **kwargs}
    with pytest.raises(ConfigError, match=message):
        account_fit_scores(**three(tiny()), **options)


def test_suggestion_options_are_validated() -> None:
    with pytest.raises(ConfigError, match="top"):
        target_suggestions(**three(tiny()), top=0, as_of=AS_OF)
    with pytest.raises(ConfigError, match="exclude_targets"):
        target_suggestions(**three(tiny()), exclude_targets="no", as_of=AS_OF)  # type: ignore[arg-type]


def test_missing_attribute_column_is_a_schema_error() -> None:
    data = tiny()
    with pytest.raises(SchemaError, match="annual_revenue"):
        account_fit_scores(
            data["accounts"].drop(columns="annual_revenue"), data["opportunities"], as_of=AS_OF
        )
    with pytest.raises(SchemaError, match="partner"):
        account_fit_scores(data["accounts"], data["opportunities"], extra=("partner",), as_of=AS_OF)


def test_zero_division_applies_to_the_raw_rate_only() -> None:
    data = tiny()
    accounts = data["accounts"].assign(partner=["y", "n", "y", "y", "n", "z"])
    opps = data["opportunities"][data["opportunities"]["account_id"] != "S6"]
    out = account_fit_scores(
        accounts, opps, by=(), extra=("partner",), zero_division="0", as_of=AS_OF
    )
    z = out.set_index("account_id").loc["S6"]  # its own segment without closed deals
    assert z["rate"] == 0.0
    assert z["score"] == pytest.approx(z["prior_rate"])
    from pipelinekit.rates import ZeroDenominatorError

    with pytest.raises(ZeroDenominatorError):
        account_fit_scores(
            accounts, opps, by=(), extra=("partner",), zero_division="raise", as_of=AS_OF
        )


@pytest.mark.parametrize("function", [account_fit_scores, target_suggestions])
def test_polars_eager_and_lazy_agree(function: Any) -> None:
    data = tiny()
    expected = function(**three(data), as_of=AS_OF)
    eager = function(**three({k: pl.from_pandas(v) for k, v in data.items()}), as_of=AS_OF)
    lazy = function(**three({k: pl.from_pandas(v).lazy() for k, v in data.items()}), as_of=AS_OF)
    assert isinstance(eager, pl.DataFrame)
    assert isinstance(lazy, pl.LazyFrame)
    assert normalise(eager) == normalise(expected)
    assert normalise(lazy) == normalise(expected)


@pytest.mark.parametrize("function", [account_fit_scores, target_suggestions])
def test_duckdb_agrees_with_pandas(function: Any) -> None:
    data = tiny()
    duck = function(**three(to_duckdb(data)), as_of=AS_OF)
    assert normalise(duck) == normalise(function(**three(data), as_of=AS_OF))


def test_inputs_are_not_mutated() -> None:
    data = tiny()
    before = {k: v.copy(deep=True) for k, v in data.items()}
    account_fit_scores(**three(data), as_of=AS_OF)
    target_suggestions(**three(data), as_of=AS_OF)
    for key, frame in data.items():
        pd.testing.assert_frame_equal(frame, before[key])


# ---------------------------------------------------------------- properties


@st.composite
def histories(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    n = draw(st.integers(1, 12))
    accounts = [
        Account(
            account_id=f"A{i:02d}",
            industry=draw(st.sampled_from([None, "it", "retail"])),
            employees=draw(st.sampled_from([None, 10, 100, 5000])),
            annual_revenue=draw(st.sampled_from([None, 5e7, 5e9])),
        )
        for i in range(n)
    ]
    opportunities = []
    for i in range(draw(st.integers(0, 25))):
        created = datetime(2025, 1, 1) + timedelta(days=draw(st.integers(0, 200)))
        closed = draw(st.none() | st.integers(0, 60))
        opportunities.append(
            Opportunity(
                opportunity_id=f"P{i}",
                account_id=draw(st.sampled_from([f"A{k:02d}" for k in range(n)])),
                created_at=created,
                closed_at=None if closed is None else created + timedelta(days=closed),
                is_won=None if closed is None else draw(st.none() | st.booleans()),
            )
        )
    return {
        "accounts": from_objects(accounts, Account),
        "opportunities": from_objects(opportunities, Opportunity),
    }


@settings(max_examples=100, deadline=None)
@given(histories(), st.floats(0.5, 50), st.randoms(use_true_random=False))
def test_ranks_are_invariant_to_row_order(
    data: dict[str, pd.DataFrame], strength: float, rnd: Any
) -> None:
    out = account_fit_scores(
        data["accounts"], data["opportunities"], prior_strength=strength, as_of=AS_OF
    )
    shuffled = {
        k: v.sample(frac=1.0, random_state=rnd.randrange(2**31)).reset_index(drop=True)
        for k, v in data.items()
    }
    again = account_fit_scores(
        shuffled["accounts"], shuffled["opportunities"], prior_strength=strength, as_of=AS_OF
    )
    assert normalise(again) == normalise(out)
    assert out["rank"].tolist() == list(range(1, len(out) + 1))
    scores = out["score"].dropna().tolist()  # all null when no deal ever closed
    assert all(a >= b for a, b in itertools.pairwise(scores))  # non-increasing
    for row in out.itertuples(index=False):
        if pd.isna(row.prior_rate):
            assert pd.isna(row.score)
            continue
        assert 0.0 <= row.score <= 1.0
        if row.denominator == 0:
            assert row.score == pytest.approx(row.prior_rate)
        else:  # shrinkage: between the raw segment rate and the overall rate
            low, high = sorted((row.rate, row.prior_rate))
            assert low - 1e-12 <= row.score <= high + 1e-12


@settings(max_examples=30, deadline=None)
@given(histories(), st.integers(1, 5))
def test_suggestions_are_the_best_non_customers(data: dict[str, pd.DataFrame], top: int) -> None:
    scores = account_fit_scores(data["accounts"], data["opportunities"], as_of=AS_OF)
    suggested = target_suggestions(data["accounts"], data["opportunities"], top=top, as_of=AS_OF)
    candidates = scores[~scores["is_customer"].astype(bool)]
    assert suggested["account_id"].tolist() == candidates["account_id"].tolist()[:top]
    assert suggested["rank"].tolist() == list(range(1, len(suggested) + 1))


@settings(max_examples=15, deadline=None)
@given(histories())
def test_polars_agrees_on_random_data(data: dict[str, pd.DataFrame]) -> None:
    expected = account_fit_scores(data["accounts"], data["opportunities"], as_of=AS_OF)
    lazy = account_fit_scores(
        pl.from_pandas(data["accounts"]).lazy(),
        pl.from_pandas(data["opportunities"]).lazy(),
        as_of=AS_OF,
    )
    assert normalise(lazy) == normalise(expected)
