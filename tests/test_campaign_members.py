"""The campaign_members table: schema, validation, objects and frames, CSV round trip."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

import pipelinekit as pk
from pipelinekit import CampaignMember, Dataset, Lead, SchemaError
from pipelinekit.sample import write_sample
from pipelinekit.schema import TABLES, from_objects, to_objects


def test_schema_is_derived_from_the_domain_class() -> None:
    table = TABLES["campaign_members"]
    assert table.names == ["lead_id", "campaign_id", "responded_at"]
    assert [c.name for c in table.columns if c.required] == table.names
    assert table.column("lead_id").fk == ("leads", "lead_id")
    assert table.column("campaign_id").fk == ("campaigns", "campaign_id")
    assert table.column("responded_at").kind == "timestamp"
    assert table.key is None  # repeated responses are allowed; metrics take the first


def test_objects_round_trip() -> None:
    members = [
        CampaignMember(lead_id="L1", campaign_id="C1", responded_at=datetime(2025, 4, 1, 9)),
        CampaignMember(lead_id="L1", campaign_id="C2", responded_at=datetime(2025, 4, 2)),
    ]
    frame = from_objects(members)
    assert str(frame["responded_at"].dtype) == "datetime64[us]"
    assert to_objects(frame, CampaignMember) == members
    with pytest.raises(ValueError, match="campaign_id"):
        CampaignMember(lead_id="L1", campaign_id="", responded_at=datetime(2025, 4, 1))


def _dataset(members: pd.DataFrame, campaigns: pd.DataFrame | None = None) -> Dataset:
    leads = from_objects([Lead(lead_id="L1", created_at=datetime(2025, 4, 1), origin="inbound")])
    return Dataset(leads=leads, campaign_members=members, campaigns=campaigns)


def test_validation_reads_values_and_warns_about_orphans() -> None:
    members = pd.DataFrame(
        {
            "lead_id": ["L1", "L9"],
            "campaign_id": ["C1", "C1"],
            "responded_at": ["2025/4/1 9:05+09:00", "2025-04-02T10:00:00+00:00"],
        }
    )
    ds = _dataset(members).validate()
    assert ds.campaign_members["responded_at"].tolist() == [
        pd.Timestamp("2025-04-01 09:05"),
        pd.Timestamp("2025-04-02 19:00"),  # converted to Asia/Tokyo
    ]
    # an unknown lead is an orphan warning; campaigns are not checked without the table
    assert [(p.table, p.column, p.rule, p.row) for p in ds.warnings] == [
        ("campaign_members", "lead_id", "orphan_fk", 2)
    ]
    campaigns = pd.DataFrame({"campaign_id": ["C2"]})
    with pytest.raises(SchemaError) as err:
        _dataset(members, campaigns).validate(strict=True)
    found = {(p.column, p.rule) for p in err.value.problems}
    assert found == {("lead_id", "orphan_fk"), ("campaign_id", "orphan_fk")}


def test_required_values_are_errors() -> None:
    members = pd.DataFrame({"lead_id": ["L1"], "campaign_id": [None], "responded_at": ["x"]})
    with pytest.raises(SchemaError) as err:
        _dataset(members).validate()
    assert {(p.column, p.rule) for p in err.value.problems} == {
        ("campaign_id", "required_value"),
        ("responded_at", "unparseable_timestamp"),
    }


def test_read_from_a_directory_and_the_bundled_sample(tmp_path: Path) -> None:
    write_sample(tmp_path, leads=60, seed=3)
    assert (tmp_path / "campaign_members.csv").exists()
    ds = pk.read_dataset(tmp_path)
    assert len(ds.campaign_members) > 0
    assert not [p for p in ds.warnings if p.table == "campaign_members"]
    bundled = pk.sample_dataset()
    assert len(bundled.campaign_members) == 3011
    assert set(bundled.campaign_members["lead_id"]) <= set(bundled.leads["lead_id"])
