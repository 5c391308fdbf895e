"""Shared fixtures of the report tests: the bundled sample's report, built once."""

from __future__ import annotations

import pytest

import pipelinekit as pk
from pipelinekit.reporting.model import Report


@pytest.fixture(scope="session")
def sample_report() -> Report:
    """The report of the bundled sample as of 2025-12-31 (every registered section)."""
    return pk.report(pk.sample_dataset(), as_of="2025-12-31")
