"""Command line: ``pipelinekit report``, ``pipelinekit validate``, ``pipelinekit sample``.

Exit codes: 0 ok (warnings on stderr), 2 invalid input or arguments, 1 unexpected
failure (short message; the traceback only with ``--debug``). Messages go to stderr;
stdout carries only the requested output.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from pipelinekit import __version__
from pipelinekit.errors import PipelineKitError, SchemaError, format_problems

__all__ = ["main"]

FORMATS = ("text", "markdown", "json", "html")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipelinekit", description="Sales-pipeline KPIs from canonical CRM tables."
    )
    parser.add_argument("--version", action="version", version=f"pipelinekit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--tz", default="Asia/Tokyo", help="dataset time zone (default Asia/Tokyo)")
        p.add_argument("--encoding", default="utf-8", help="CSV encoding, e.g. cp932")
        p.add_argument(
            "--strict",
            action="store_true",
            help="orphan foreign keys and implausible timestamp orders (closed or "
            "validated before created) are errors, not warnings",
        )
        p.add_argument(
            "--preset",
            choices=("salesforce", "hubspot"),
            help="read DATA_DIR as a CRM export (Lead.csv, ... or contacts.csv, ...; "
            "tables Lead, ... in a database)",
        )
        p.add_argument(
            "--schema",
            metavar="NAME",
            help="schema of the DuckDB database DATA_DIR that holds the tables "
            "(default main); only for a database file",
        )
        p.add_argument(
            "--errors", choices=("text", "json"), default="text", help="format of problem lists"
        )
        p.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )

    report = sub.add_parser("report", help="print the KPI report")
    report.add_argument(
        "data_dir",
        nargs="?",
        metavar="DATA_DIR",
        help="directory of tables, or a DuckDB database file (crm.duckdb) holding them "
        "(default: bundled sample)",
    )
    report.add_argument("--as-of", help="report day YYYY-MM-DD (default: latest date in the data)")
    report.add_argument("--format", choices=FORMATS, default="text")
    report.add_argument(
        "--lang",
        choices=("en", "ja"),
        default=None,
        help="labels in English (default) or Japanese; with json, adds a labels object",
    )
    report.add_argument("--output", "-o", help="write to this file (atomically) instead of stdout")
    report.add_argument(
        "--sections",
        help="compute only these parts, comma-separated: summary and section keys "
        "(funnel, activity, ...); default: all",
    )
    report.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress display (it is shown on stderr only when stderr is a terminal)",
    )
    report.add_argument(
        "--tables-dir",
        help="also write every section table and the long KPI table (kpis) into this "
        "directory, in --tables-format",
    )
    report.add_argument(
        "--tables-format",
        choices=("csv", "parquet", "duckdb"),
        default="csv",
        help="csv (formula-safe, default), parquet (one file per table) or duckdb "
        "(one database file, pipelinekit.duckdb, one table per section table)",
    )
    data_options(report)

    validate = sub.add_parser(
        "validate", help="check a directory of tables or a database, list every problem"
    )
    validate.add_argument(
        "data_dir", metavar="DATA_DIR", help="directory of tables, or a DuckDB database file"
    )
    data_options(validate)

    sample = sub.add_parser("sample", help="write a synthetic dataset")
    sample.add_argument("out_dir")
    sample.add_argument("--leads", type=int, default=2000)
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument("--format", choices=("csv", "parquet"), default="csv")
    sample.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    return parser


def _load(args: argparse.Namespace) -> Any:
    from pipelinekit._compat import has_polars
    from pipelinekit.dataset import read_dataset, sample_dataset

    # the report computes on polars when it is installed: read straight into it
    backend: Literal["pandas", "polars"] = "polars" if has_polars() else "pandas"
    if getattr(args, "data_dir", None) is None:
        if args.preset:
            raise PipelineKitError("--preset needs DATA_DIR, the directory of the CRM export")
        if args.schema is not None:
            raise PipelineKitError("--schema needs DATA_DIR, a DuckDB database file")
        return sample_dataset(backend=backend)
    if args.schema is not None and Path(args.data_dir).is_dir():
        raise PipelineKitError(
            f"--schema names a schema of a DuckDB database file, but {args.data_dir} is a "
            "directory of tables; drop --schema, or pass the database file"
        )
    if args.preset:
        from pipelinekit.io.presets import read_preset

        return read_preset(
            args.data_dir,
            args.preset,
            tz=args.tz,
            strict=args.strict,
            encoding=args.encoding,
            schema=args.schema,
        )
    return read_dataset(
        args.data_dir,
        tz=args.tz,
        strict=args.strict,
        encoding=args.encoding,
        backend=backend,
        schema=args.schema,
    )


def _print_warnings(dataset: Any, errors_format: str) -> None:
    if not dataset.warnings:
        return
    if errors_format == "json":
        print(
            json.dumps(SchemaError(dataset.warnings).to_records(), ensure_ascii=False),
            file=sys.stderr,
        )
    else:
        print(format_problems(list(dataset.warnings)), file=sys.stderr)


def _report(args: argparse.Namespace) -> int:
    from pipelinekit._atomic import write_text_atomic
    from pipelinekit.reporting import build_report

    for option in ("output", "tables_dir"):
        _check_outside_data(getattr(args, option), args.data_dir, option)
    _check_not_the_database(args)
    dataset = _load(args)
    _print_warnings(dataset, args.errors)
    with _progress(enabled=not args.quiet and sys.stderr.isatty()) as progress:
        rep = build_report(dataset, as_of=args.as_of, sections=args.sections, progress=progress)
    text = _render(rep, args.format, args.lang, terminal=not args.output and sys.stdout.isatty())
    if rep.as_of_source != "given":
        print(
            f"note: as_of = {rep.as_of} ({rep.as_of_source}); pass --as-of to fix it",
            file=sys.stderr,
        )
    if args.tables_dir:
        from pipelinekit.reporting.export import write_tables

        write_tables(rep, args.tables_dir, format=args.tables_format)
    if args.output:
        write_text_atomic(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return 0


@contextlib.contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar on stderr (one step per report part), or nothing."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task("report", total=None)

        def update(part: str, done: int, total: int) -> None:
            bar.update(task, description=f"report: {part}", completed=done, total=total)

        yield update


def _check_outside_data(target: str | None, data_dir: str | None, option: str) -> None:
    """Refuse an output path inside the data directory (it is never written into)."""
    if not target or not data_dir or not Path(data_dir).is_dir():
        return
    out = Path(target).resolve()
    data = Path(data_dir).resolve()
    if out == data or out.is_relative_to(data):
        flag = "--" + option.replace("_", "-")
        raise PipelineKitError(f"{flag} must not point into the data directory {data_dir}")


def _check_not_the_database(args: argparse.Namespace) -> None:
    """Refuse an output file that is the database read (it is never written)."""
    if not args.data_dir or Path(args.data_dir).is_dir():
        return
    data = Path(args.data_dir).resolve()
    targets = {"--output": Path(args.output).resolve() if args.output else None}
    if args.tables_dir:
        from pipelinekit.reporting.export import DUCKDB_FILE

        name = DUCKDB_FILE if args.tables_format == "duckdb" else None
        targets["--tables-dir"] = (Path(args.tables_dir) / name).resolve() if name else None
    for flag, target in targets.items():
        if target == data:
            raise PipelineKitError(f"{flag} must not overwrite the database {args.data_dir}")


def _render(rep: Any, fmt: str, lang: str | None, *, terminal: bool) -> str:
    """The report in ``fmt``; text uses rich tables on a terminal, plain text else."""
    if fmt == "json":
        return str(rep.to_json(lang=lang)) + "\n"
    chosen = lang or "en"
    if fmt == "markdown":
        return str(rep.to_markdown(lang=chosen))
    if fmt == "html":
        return str(rep.to_html(lang=chosen))
    if terminal:
        from pipelinekit.reporting.render import render_rich

        return render_rich(rep, lang="ja" if chosen == "ja" else "en")
    return str(rep.to_text(lang=chosen))


def _validate(args: argparse.Namespace) -> int:
    dataset = _load(args)
    _print_warnings(dataset, args.errors)
    n = len(dataset.table("leads"))
    print(
        f"ok: {args.data_dir} is valid ({n} leads, {len(dataset.warnings)} warnings)",
        file=sys.stderr,
    )
    return 0


def _sample(args: argparse.Namespace) -> int:
    from pipelinekit.sample import write_sample

    if args.leads <= 0:
        raise PipelineKitError("--leads must be a positive number")
    paths = write_sample(args.out_dir, leads=args.leads, seed=args.seed, format=args.format)
    print(f"wrote {len(paths)} tables to {args.out_dir}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pipelinekit`` command; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    commands = {"report": _report, "validate": _validate, "sample": _sample}
    try:
        return commands[args.command](args)
    except SchemaError as exc:
        if getattr(args, "errors", "text") == "json":
            print(json.dumps(exc.to_records(), ensure_ascii=False), file=sys.stderr)
        else:
            print(f"error: invalid input\n{exc}", file=sys.stderr)
        return 2
    except PipelineKitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"error: unexpected failure: {type(exc).__name__}: {exc}\n"
                "run again with --debug for the traceback and please report it",
                file=sys.stderr,
            )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
