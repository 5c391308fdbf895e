"""The default install (no DuckDB, no PySpark) gives the same numbers.

``make test-lean`` runs this module in an environment with only the default
dependencies and ``PIPELINEKIT_LEAN=1``; in the full environment the same checks run
in a subprocess that hides the optional engines from the import system, so both paths
are exercised on every ``make test``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

GOLDEN = Path(__file__).parents[1] / "golden" / "data" / "report_bundled.json"
OPTIONAL_ENGINES = ("duckdb", "pyspark")
LEAN = os.environ.get("PIPELINEKIT_LEAN") == "1"

#: Sections compared with the golden report.
COMPARED = ("funnel", "activity", "queues", "assets", "allocation", "mix", "abm", "campaigns")


def _hide(names: tuple[str, ...]) -> str:
    return "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in names)


def _run(code: str, *, hidden: tuple[str, ...] = OPTIONAL_ENGINES) -> str:
    """``code``'s ``out``, computed where ``hidden`` cannot be imported."""
    if LEAN and hidden == OPTIONAL_ENGINES:
        namespace: dict[str, object] = {}
        exec(code, namespace)  # the optional engines are not installed here
        return str(namespace["out"])
    done = subprocess.run(
        [sys.executable, "-c", _hide(hidden) + code + "\nprint(out, end='')"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    return done.stdout


def test_the_optional_engines_are_absent() -> None:
    code = (
        "import importlib\n"
        "import pipelinekit as pk\n"
        "pk.report(pk.sample_dataset(), sections=['summary'])\n"
        "def gone(name):\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError:\n"
        "        return True\n"
        "    return False\n"
        f"out = [n for n in {OPTIONAL_ENGINES!r} if not gone(n)]\n"
    )
    assert _run(code) == "[]"
    if LEAN:
        assert all(importlib.util.find_spec(name) is None for name in OPTIONAL_ENGINES)


def test_report_without_optional_engines_matches_the_golden_report() -> None:
    code = (
        "import pipelinekit as pk\n"
        "out = pk.report(pk.sample_dataset(), "
        f"sections=['summary', *{COMPARED!r}]).to_json()\n"
    )
    got = json.loads(_run(code))
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got["summary"] == want["summary"]
    assert list(got["sections"]) == list(COMPARED)
    for key in COMPARED:
        assert got["sections"][key]["tables"] == want["sections"][key]["tables"], key
        assert got["sections"][key]["notes"] == want["sections"][key]["notes"], key


def test_csv_directory_reads_without_optional_engines(tmp_path: Path) -> None:
    code = (
        "import pipelinekit as pk\n"
        "from pipelinekit.sample import write_sample\n"
        f"write_sample({str(tmp_path)!r}, leads=300, seed=3)\n"
        f"ds = pk.read_dataset({str(tmp_path)!r})\n"
        "out = (type(ds.leads).__module__.split('.')[0], len(ds.leads), "
        "pk.summary(ds, as_of='2025-12-31')['leads'])\n"
    )
    assert _run(code) in {"('pandas', 300, 300)", "('polars', 300, 300)"}


def test_pandas_input_without_polars_is_refused_with_the_fix() -> None:
    code = (
        "import pandas as pd\n"
        "import pipelinekit as pk\n"
        "from pipelinekit.errors import UnsupportedEngineError\n"
        "ds = pk.sample_dataset()\n"
        "try:\n"
        "    pk.connect_rate(ds.activities)\n"
        "    out = 'computed'\n"
        "except UnsupportedEngineError as exc:\n"
        "    out = str(exc)\n"
    )
    message = _run(code, hidden=("polars",))
    assert message.startswith("connect_rate: pandas tables are computed on polars"), message
    assert "pip install 'polars>=1.20'" in message


def test_a_database_file_without_duckdb_names_the_extra(tmp_path: Path) -> None:
    db = tmp_path / "crm.duckdb"
    db.write_bytes(bytes(8) + b"DUCK" + bytes(4084))  # DuckDB's header, checked before import
    code = (
        "import contextlib, io\n"
        "import pipelinekit as pk\n"
        "from pipelinekit.cli import main\n"
        "from pipelinekit.errors import UnsupportedEngineError\n"
        "try:\n"
        f"    pk.read_dataset({str(db)!r})\n"
        "    message = 'read'\n"
        "except UnsupportedEngineError as exc:\n"
        "    message = str(exc)\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err):\n"
        f"    code = main(['report', {str(db)!r}])\n"
        "out = (message, code, err.getvalue())\n"
    )
    message = (
        "reading crm.duckdb needs DuckDB, which is not installed: "
        'pip install "pipelinekit[engines]"'
    )
    assert _run(code) == repr((message, 2, f"error: {message}\n"))
