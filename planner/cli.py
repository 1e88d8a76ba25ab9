"""The ``planner`` command. Each command is a few lines calling the library.

Results go to stdout; warnings, errors and progress go to stderr. Bad input exits with code 2
and a report naming file, row, column, value and rule — never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.segment import Segment
from rich.table import Table as RichTable
from rich.text import Text

from planner import __version__
from planner.audit import DRAW_RECORD, draw_record, verify_draw
from planner.dataset import Dataset, horizon_warnings, load_dataset
from planner.messages import catalogue, console_lang, msg
from planner.messages import text as catalogue_text
from planner.outputs import OutputError, check_destination, write_folder, write_table, write_tables
from planner.problems import InputError, Problem, printable, report_lines
from planner.sampling import draw_sampling_plan, seed_commitment
from planner.scenario import load_scenario
from planner.summary import summarise
from planner.whatif import appointment_problems, load_scenario_dataset, staff_problems
from planner.workdays import work_calendar

app = typer.Typer(
    name="planner",
    help="综合查一次 joint inspection planner: one door, many checks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # click's own help layout: each docstring paragraph re-flowed to the width (not broken where the
    # source wraps), flags without a `<bool>` type, no boxes to garble a pipe
    rich_markup_mode=None,
    # click measures characters, not terminal cells: the room left keeps a line with a few Chinese
    # characters (two cells each) inside 80 columns
    context_settings={"max_content_width": 74},
)


class _SafeConsole(Console):
    """A console that writes every control character of what it shows as its escape (``\\x1b``):
    names and headers from input files reach the terminal as text, never as escape sequences.
    Rich's own styles and cursor moves are separate (control) segments and pass as they are."""

    def render(self, renderable, options=None):
        for segment in super().render(renderable, options):
            if segment.control is None and segment.text and printable(segment.text, keep_newlines=True) != segment.text:
                segment = Segment(printable(segment.text, keep_newlines=True), segment.style)
            yield segment


# Soft wrap: a sentence is never broken where the console guesses a width (80 columns when not
# a terminal), so what a script or test reads on stderr is what was said; tables still fit the width.
out = _SafeConsole(soft_wrap=True)
err = _SafeConsole(stderr=True, soft_wrap=True)


def _shown(value: object) -> str:
    """Text from input data or the user for a message with markup: markup escaped, control characters written out."""
    return escape(printable(str(value)))


def _json(value: object) -> str:
    """JSON for stdout: control characters that JSON allows raw (DEL, C1, bidi) written as \\u escapes too."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@contextmanager
def _progress(what: str, total: int | None) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr for a stage of a second or more; yields ``step(done)``, called when
    each of ``total`` steps is done. Off when stderr is not a terminal: a pipe or a log gets no
    escape codes, and stdout stays data."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with bar:
        task = bar.add_task(what, total=total)
        yield lambda done: bar.update(task, advance=1, description=f"{what}: {_shown(done)}")


def _say(message_id: str, **fields: object) -> str:
    """The catalogue's sentence ``message_id`` in the console's language, with ``fields`` (already
    made safe for the console: ``_shown``)."""
    return catalogue_text(message_id, console_lang()).format(**fields)


def _label(message_id: str, code: str) -> str:
    """The console's word for ``code`` (message ``message_id``), or the code itself when the
    catalogue has none (a stage only a benchmark times)."""
    lang = console_lang()
    return catalogue_text(message_id, lang) if message_id in catalogue(lang) else code


def _echo(text: object) -> None:
    """One line to stdout for scripts, never wrapped, control characters written out."""
    typer.echo(printable(str(text)))


EXIT_BAD_INPUT = 2
#: the Solomon VRPTW instances kept with the benchmarks (public data, see its README)
SOLOMON_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "solomon"
EXIT_INTERRUPTED = 130  # the shell's code for a run ended by Ctrl-C (128 + SIGINT)


class Profile(StrEnum):
    tiny = "tiny"
    county = "county"
    city = "city"
    k1 = "1k"  # the benchmark sizes (planner.demo.PROFILES)
    k20 = "20k"
    k100 = "100k"
    park = "park"  # issue 14's hard profiles, each with its scenario keys (planner.demo.PROFILES)
    q4 = "q4"
    tight = "tight"
    short = "short"
    leave = "leave"
    province = "province"  # --counties generated counties on --engine (planner.engine)


class Lang(StrEnum):
    """The language of the sentences officials read (planner.messages)."""

    zh = "zh"
    en = "en"


#: ``--lang``: the plan's sentences (reasons, changes); recorded in manifest.json
LangOption = Annotated[
    Lang,
    typer.Option("--lang", help="Language of the plan's files (reasons, plan.xlsx, report.html): zh (default) or en."),
]


class Engine(StrEnum):
    local = "local"
    dask = "dask"
    serial = "serial"


class TableFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    xlsx = "xlsx"


def _version(show: bool) -> None:
    if show:
        out.print(f"planner {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """综合查一次 joint inspection planner: one door, many checks."""


@contextmanager
def _reported() -> Iterator[None]:
    """Turn input problems into a report on stderr and exit code 2."""
    try:
        yield
    except InputError as error:
        _print_problems(error.problems)
        n, lang = len(error.errors), console_lang()
        counts = catalogue_text(f"input.count.errors.{'one' if n == 1 else 'many'}", lang).format(n=n)
        err.print(catalogue_text("input.nothing_written", lang).format(errors=f"[bold red]{counts}[/]"))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except OutputError as error:
        err.print(_error_line(_shown(error)))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except OSError as error:  # a full disk, a file-size limit, a folder that may not be read …
        err.print(_error_line(_shown(_os_error(error)), written=False))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except Exception as error:
        cause = _write_failure(error)
        if cause is None:
            raise
        err.print(_error_line(_shown(_os_error(cause)), written=False))
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _error_line(what: str, written: bool = True) -> str:
    """'error: …' (错误：…) in the console's language, saying nothing was written unless ``written``."""
    lang = console_lang()
    if not written:
        what = catalogue_text("input.nothing_written_after", lang).format(error=what)
    return catalogue_text("input.place.rule", lang).format(
        where=f"[bold red]{catalogue_text('input.severity.error', lang)}[/]", rule=what
    )


def _os_error(error: OSError) -> str:
    """'/plans/x/plan.xlsx: No space left on device' — the file and the system's reason."""
    reason = error.strerror or str(error)
    where = error.filename if error.filename is not None else ""
    return f"{where}: {reason}" if where else reason


def _write_failure(error: Exception) -> OSError | None:
    """The OSError behind a library's own write error (xlsxwriter's FileCreateError wraps one)."""
    from xlsxwriter.exceptions import FileCreateError

    if isinstance(error, FileCreateError):
        cause = error.args[0] if error.args else None
        return cause if isinstance(cause, OSError) else OSError(str(cause))
    return None


@contextmanager
def _first_interrupt_stops_search() -> Iterator[Callable[[], bool]]:
    """Ctrl-C once: the search stops and the plan is completed from what was found (marked
    INTERRUPTED); Ctrl-C again: KeyboardInterrupt, and nothing is written. Yields ``stop()``."""
    asked: list[bool] = []

    def on_interrupt(signum, frame) -> None:
        if asked:
            raise KeyboardInterrupt
        asked.append(True)
        err.print(
            "[yellow]interrupted[/]: the search stops and the plan is completed from what was found; "
            "press Ctrl-C again to abort (then nothing is written)"
        )

    try:
        previous = signal.signal(signal.SIGINT, on_interrupt)
    except ValueError:  # not the main thread (an embedding program): Ctrl-C keeps its default
        yield lambda: False
        return
    try:
        yield lambda: bool(asked)
    finally:
        signal.signal(signal.SIGINT, previous)


def _scenario_inputs(scenario_file: Path):
    """The scenario, its dataset with the scenario's extra inputs, and the horizon's working days."""
    scenario = load_scenario(scenario_file)
    dataset = load_scenario_dataset(scenario)
    calendar = work_calendar(
        scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides(), where=str(scenario_file)
    )
    return scenario, dataset, calendar


def _print_problems(problems: tuple[Problem, ...] | list[Problem]) -> None:
    styles = {"file": "bold", "error": "red", "warning": "yellow", "more": "yellow"}
    for kind, line in report_lines(problems):
        err.print(line, style=styles[kind], markup=False, highlight=False, soft_wrap=True)


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A dataset folder, or a scenario .toml file.", exists=True)],
) -> None:
    """Check a dataset (or a scenario and its dataset) and summarise what is in it.

    Exits 0 when the data obeys the contract, 2 with a report of every problem otherwise.

    Example: planner validate scenarios/baseline.toml
    """
    with _reported():
        if path.is_file():
            scenario = load_scenario(path)
            dataset = load_scenario_dataset(scenario)
            problems = staff_problems(dataset, scenario)  # as `planner plan` would report them
            problems += appointment_problems(dataset, scenario)
            if problems:
                raise InputError(problems)
            calendar = work_calendar(
                scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides(), where=str(path)
            )
            from planner.pipeline import override_input_problems

            problems = override_input_problems(dataset, scenario, calendar)  # 人工研判修正, as `planner plan` would
            if problems:
                raise InputError(problems)
            warnings = [*dataset.warnings, *horizon_warnings(dataset, calendar.start, calendar.end)]
            heading = _say("cli.heading.scenario", name=_shown(scenario.name), path=_shown(path))
            horizon = _say(
                "cli.horizon", start=calendar.start, end=calendar.end, days=len(calendar), source=calendar.source
            )
        else:
            dataset = load_dataset(path)
            warnings, heading, horizon = list(dataset.warnings), _say("cli.heading.dataset", path=_shown(path)), None
    _print_problems(warnings)
    _print_summary(dataset, heading, horizon)
    err.print(_say("cli.valid", n=len(warnings)))


def _print_summary(dataset: Dataset, heading: str, horizon: str | None) -> None:
    summary = summarise(dataset)
    out.print(f"[bold]{heading}[/]")
    if horizon:
        out.print(horizon)
    out.print(_rich(summary.tables, _say("cli.summary.tables")))
    out.print(_rich(summary.tiers, _say("cli.summary.tiers")))
    out.print(_rich(summary.departments, _say("cli.summary.departments")))
    out.print(_rich(summary.tasks_by_month.reset_index(), _say("cli.summary.tasks_by_month")))


def _rich(frame: pd.DataFrame, title: str) -> RichTable:
    """A table of ``frame``; cells are plain text (a name holding "[bold]" or an escape is shown as it is)."""
    table = RichTable(title=title, title_justify="left")
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(Text(printable(str(column))), justify="right" if numeric else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*(Text(f"{v:,}" if isinstance(v, int) else printable(str(v))) for v in row))
    return table


@app.command("demo-data")
def demo_data(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to create for the dataset.")],
    profile: Annotated[
        Profile,
        typer.Option(
            help="Size: tiny (tests), county (~5,000 enterprises), city (~5×); or a hard profile of issue 14 (park, q4, tight, short, leave), written with its scenario.toml."
        ),
    ] = Profile.county,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 2026,
    table_format: Annotated[
        TableFormat, typer.Option("--format", help="File type of the tables.")
    ] = TableFormat.parquet,
    force: Annotated[bool, typer.Option(help="Replace an existing folder (it is moved aside, not deleted).")] = False,
    appointments: Annotated[
        int,
        typer.Option(
            min=0,
            help="Also write an appointments table (预约) of this many appointments (e.g. 100); the other tables do not change.",
        ),
    ] = 0,
) -> None:
    """Generate a realistic synthetic county dataset (all tables of the data contract).

    Example: planner demo-data --profile county --seed 2026 --out data/sample-county
    """
    from planner.demo import generate_appointments, generate_dataset, write_profile_scenario

    rows: dict[str, int] = {}

    def fill(folder: Path) -> None:
        tables = generate_dataset(profile.value, seed)
        if appointments:
            tables["appointments"] = generate_appointments(tables, appointments, seed)
        write_tables(tables, folder, f".{table_format.value}")
        rows.update((name, len(frame)) for name, frame in tables.items())
        write_profile_scenario(folder, profile.value, seed)  # a hard profile's scenario keys, ready to plan

    with _reported():
        moved = write_folder(out_dir, fill, replace=force)
    if moved:
        for aside in moved:
            err.print(_say("cli.moved_aside", path=_shown(out_dir), aside=_shown(aside)))
    err.print(_say("cli.wrote_rows", path=_shown(out_dir), rows=", ".join(f"{name} {n:,}" for name, n in rows.items())))


@app.command("demo-actuals")
def demo_actuals(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN_DIR", help="A plan folder.", exists=True, file_okay=False)],
    as_of: Annotated[
        dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="The date the actuals run to (YYYY-MM-DD).")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Actuals folder to create.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same actuals.")] = 2026,
    new_tasks: Annotated[int, typer.Option(help="New complaint tasks (投诉举报) to add.")] = 50,
    on_leave: Annotated[
        int, typer.Option(help="Inspectors with crew-days in the next month who take two weeks off.")
    ] = 5,
    results: Annotated[
        bool,
        typer.Option(
            "--results", help="Give each check done a result (70 % clear, 20 % rectify, 8 % case, 2 % red line)."
        ),
    ] = False,
) -> None:
    """Make synthetic actuals for a plan (outcomes, new complaints, new leave), to try planner reoptimize.

    Example: planner demo-actuals plans/2026 --as-of 2026-02-02 --out actuals/2026-02
    """
    from planner.demo import generate_actuals
    from planner.export import read_plan_folder

    with _reported():
        check_destination(out_dir, advice="out")
        t = read_plan_folder(plan_dir).tables
        tables = generate_actuals(
            t["tasks"], t["visits"], t["visit_tasks"], t["crews"], as_of.date(), seed, new_tasks, on_leave, results
        )
        write_folder(out_dir, lambda folder: write_tables(tables, folder, ".csv"))
    counts = ", ".join(f"{name} {len(frame):,}" for name, frame in tables.items())
    err.print(_say("cli.wrote_rows", path=_shown(out_dir), rows=counts))


@app.command()
def plan(
    scenario_file: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario .toml file.", exists=True)],
    out_dir: Annotated[Path, typer.Option("--out", help="Plan folder to create (never overwritten).")],
    force: Annotated[bool, typer.Option(help="Replace an existing folder (it is moved aside, not deleted).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary; only errors and warnings.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print kpis.json to stdout (for scripts).")] = False,
    lang: LangOption = Lang.zh,
) -> None:
    """综合查一次: draw, merge tasks into joint visits, staff crews, route their days; write the plan folder.

    The plan is checked against every hard rule before it is written; what cannot be placed is
    listed in unscheduled.parquet with its reason.

    Example: planner plan scenarios/baseline.toml --out plans/2026
    """
    from planner.pipeline import WRITTEN, make_plan, write_plan

    started = dt.datetime.now().astimezone()
    with _reported():
        check_destination(out_dir, replace=force)  # before the solve, which a typo in --out would waste
        scenario, dataset, calendar = _scenario_inputs(scenario_file)
        problems = staff_problems(dataset, scenario)  # before the draw, not after it
        problems += appointment_problems(dataset, scenario)
        if problems:
            raise InputError(problems)
        warnings = [*dataset.warnings, *horizon_warnings(dataset, calendar.start, calendar.end)]
        with err.status(_say("cli.planning")) as status:

            def report(line: str) -> None:
                if not quiet:
                    err.print(f"[dim]{_shown(line)}[/]", highlight=False)
                status.update(f"{_say('cli.planning')} {_shown(line)}")

            try:
                with _first_interrupt_stops_search() as stop:
                    result = make_plan(dataset, scenario, calendar, report, stop, lang.value)  # checked: result.broken
                    broken = result.broken
            except KeyboardInterrupt:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # more Ctrl-C while exiting change nothing
                err.print(_say("cli.aborted"))
                raise typer.Exit(EXIT_INTERRUPTED) from None
        if broken:
            for line in broken[:50]:
                err.print(_say("cli.rule_broken", line=_shown(line)), highlight=False)
            err.print(_say("cli.internal_error", n=len(broken)))
            raise typer.Exit(3)
        try:
            with _progress(_say("cli.writing_plan"), len(WRITTEN)) as step:
                moved = write_plan(result, out_dir, dataset, scenario, started, replace=force, progress=step)
        except KeyboardInterrupt:  # write_folder has removed its temporary folder
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            err.print(_say("cli.aborted_writing"))
            raise typer.Exit(EXIT_INTERRUPTED) from None
    _print_problems(warnings)
    if moved:
        for aside in moved:
            err.print(_say("cli.moved_aside", path=_shown(out_dir), aside=_shown(aside)))
    if as_json:
        out.print_json(json.dumps(result.kpis, ensure_ascii=False))
    if not quiet:
        _print_plan_summary(result.kpis, out_dir)
    _accept(scenario.acceptance, result.kpis, scenario_file)


def _accept(rules: tuple[str, ...], kpis: dict, where: Path) -> None:
    """Print each acceptance rule's verdict; exit EXIT_REJECTED if one fails (the plan stays written)."""
    from planner.acceptance import EXIT_REJECTED, judge

    verdicts = judge(rules, kpis)
    for v in verdicts:
        err.print(_verdict(v), highlight=False)
    if any(not v.passed for v in verdicts):
        err.print(_say("cli.accept.rejected", path=_shown(where)))
        raise typer.Exit(EXIT_REJECTED)


def _verdict(v) -> str:
    """An acceptance rule's verdict line: pass or fail, the rule and the plan's value."""
    mark = _say("cli.accept.pass" if v.passed else "cli.accept.fail")
    return _say("cli.accept.verdict", mark=mark, rule=_shown(v.rule), value=_shown(v.value))


def _print_plan_summary(kpis: dict, out_dir: Path) -> None:
    """The KPIs (with their Chinese labels and values in a Chinese console), the stage timings and
    where the files are (stderr)."""
    from planner.workbook import KPI_LABELS, shown_value

    chinese = console_lang() == "zh"
    table = RichTable(title=_say("cli.kpis.title"), title_justify="left")
    columns = ("cli.kpis.label", "cli.kpis.key", "cli.kpis.value") if chinese else ("cli.kpis.key", "cli.kpis.value")
    for name in columns:
        table.add_column(_say(name), justify="right" if name.endswith("value") else "left")
    for key, value in kpis.items():
        if isinstance(value, dict):
            continue
        value = shown_value(key, value) if chinese else value
        shown = f"{value:,}" if isinstance(value, int) else f"{value:.1%}" if "_rate" in key else str(value)
        style = "bold red" if key == "unscheduled_mandatory" and value else None
        label = (KPI_LABELS.get(key, ("",))[0],) if chinese else ()
        table.add_row(*label, key, shown, style=style)
    err.print(table)
    lang = console_lang()
    names = {
        s: catalogue_text(f"stage.name.{s}", lang)
        for s in kpis.get("timings", {})
        if f"stage.name.{s}" in catalogue(lang)
    }
    timings = catalogue_text("sep.list", lang).join(
        catalogue_text("stage.line", lang).format(stage=names.get(stage, stage), seconds=f"{seconds:.1f}")
        for stage, seconds in kpis.get("timings", {}).items()
    )
    err.print(_say("cli.stages", timings=timings))
    err.print(_say("cli.wrote_plan", path=_shown(out_dir)))


class SliceBy(StrEnum):
    dept = "dept"
    township = "township"


@app.command()
def diagnose(
    scenario_file: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario .toml file.", exists=True)],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the diagnosis as JSON to stdout (for scripts).")
    ] = False,
    limit: Annotated[int, typer.Option(help="Rows shown per table (the JSON has them all).", min=1)] = 20,
    every_task: Annotated[
        bool, typer.Option("--all", help="Also check random and campaign tasks (reported apart).")
    ] = False,
) -> None:
    """Explain, without planning, which mandatory tasks no plan can place and why — window, holiday,
    cap, certificate, delegation, conflict, leave, stay length — and where a department's time runs short.

    Exit 0 when nothing is blocked, 1 when a mandatory task is blocked or a department is proven
    short of time, 2 on bad input. Writes nothing.

    Example: planner diagnose scenarios/staff-cut-40.toml
    """
    from planner.diagnose import STAGES, render, to_json
    from planner.diagnose import diagnose as explain

    with _reported():
        scenario, dataset, calendar = _scenario_inputs(scenario_file)
        with _progress("checking every task against every rule", len(STAGES)) as step:
            result = explain(dataset, scenario, calendar, optional=every_task, progress=step)
    if as_json:
        typer.echo(_json(to_json(result)))
    else:
        render(result, out, limit)
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def export(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN_DIR", help="A plan folder.", exists=True, file_okay=False)],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to create (never overwritten).")],
    fmt: Annotated[TableFormat, typer.Option("--format", help="xlsx (officials), csv or parquet.")] = TableFormat.xlsx,
    by: Annotated[
        SliceBy | None, typer.Option(help="One file per department or per township, each with only its part.")
    ] = None,
    dataset_dir: Annotated[
        Path | None, typer.Option("--dataset", help="Dataset for names (default: the recorded one).")
    ] = None,
    redact: Annotated[
        bool, typer.Option("--redact", help="Inspectors' names replaced by their ids, for publication (一公开).")
    ] = False,
) -> None:
    """Write a plan as a workbook, CSV or Parquet — whole, or one per department or township.

    Text that a spreadsheet would run as a formula (=, +, -, @) is always written as text.
    --redact writes inspector ids instead of names (the plan tables themselves hold ids only).

    Example: planner export plans/2026 --by dept --out plans/2026-by-dept
    """
    from planner.export import export_plan

    with _reported():
        check_destination(out_dir, advice="out")
        result = export_plan(plan_dir, out_dir, fmt.value, by.value if by else None, dataset_dir, redact)
    for line in result.warnings:
        err.print(_say("cli.warning", line=_shown(line)), highlight=False)
    for name in result.files:
        _echo(result.out / name)  # one path a line, never wrapped: stdout is for scripts
    err.print(_say("cli.wrote_files", n=len(result.files), path=_shown(result.out)))


#: the visits of a plan a command reads, and the dataset with their names and the items catalogue
VisitsFrom = Annotated[
    dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First visit date (YYYY-MM-DD).")
]
VisitsTo = Annotated[dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last visit date, inclusive.")]
CatalogueDataset = Annotated[
    Path | None,
    typer.Option("--dataset", help="Dataset with names and the items catalogue (default: the recorded one)."),
]


@app.command()
def notices(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN_DIR", help="A plan folder.", exists=True, file_okay=False)],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to create (never overwritten without --force).")],
    start: VisitsFrom = None,
    end: VisitsTo = None,
    dataset_dir: CatalogueDataset = None,
    force: Annotated[bool, typer.Option(help="Replace an existing folder (it is moved aside, not deleted).")] = False,
) -> None:
    """检查通知书: one .docx notice per visit, with the crew's merged checklist (一表通查).

    Each notice names the enterprise, date and time, departments and lead department, the crew
    with their 执法证号, the items with their legal basis, the materials to prepare, the visit code,
    the inspections of the enterprise this year and its right to ask for 回避. Beside them:
    notices.csv (the index), checklist.csv (every visit's checklist) and notices.json.

    Example: planner notices plans/2026 --from 2026-03-01 --to 2026-03-31 --out notices/2026-03
    """
    from planner.notices import write_notices

    with _reported():
        check_destination(out_dir, replace=force)
        result = write_notices(
            plan_dir, out_dir, dataset_dir, start.date() if start else None, end.date() if end else None, force
        )
    for line in result.warnings:
        err.print(_say("cli.warning", line=_shown(line)), highlight=False)
    for aside in result.moved or ():
        err.print(_say("cli.moved_aside", path=_shown(out_dir), aside=_shown(aside)))
    for name in result.files:
        _echo(result.out / name)
    err.print(_say("cli.wrote_notices", n=len(result.files), path=_shown(result.out)))


@app.command()
def checklist(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN_DIR", help="A plan folder.", exists=True, file_okay=False)],
    start: VisitsFrom = None,
    end: VisitsTo = None,
    dataset_dir: CatalogueDataset = None,
) -> None:
    """一表通查: every visit's merged checklist as CSV on stdout, each check point once per visit.

    A point several departments' items name (消防通道, 安全出口 …) is one row listing every
    department that relies on it, every item it serves and every legal basis.

    Example: planner checklist plans/2026 --from 2026-03-02 --to 2026-03-02 > checklist.csv
    """
    from planner.notices import csv_safe, plan_checklist

    with _reported():
        rows, warnings = plan_checklist(
            plan_dir, dataset_dir, start.date() if start else None, end.date() if end else None
        )
    for line in warnings:
        err.print(_say("cli.warning", line=_shown(line)), highlight=False)
    typer.echo(csv_safe(rows).to_csv(index=False), nl=False)


@app.command()
def bench(
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="[SCENARIO|routing]",
            help="A scenario to time (default: a generated county), or `routing`: the route engine on the Solomon VRPTW instances.",
        ),
    ] = None,
    profile: Annotated[
        Profile,
        typer.Option(
            help="Generated instance when no SCENARIO: tiny, county (the sample county), city, 1k, 20k, 100k, a hard profile with its scenario keys (park, q4, tight, short, leave), or province (--counties counties)."
        ),
    ] = Profile.county,
    counties: Annotated[
        int, typer.Option(help="--profile province: how many counties (seeds 2026, 2027, …).", min=1)
    ] = 90,
    county_profile: Annotated[
        Profile, typer.Option(help="--profile province: the size of each county.")
    ] = Profile.county,
    engine: Annotated[
        Engine, typer.Option(help="--profile province: local process pool, Dask, or serial (one by one here).")
    ] = Engine.local,
    address: Annotated[
        str | None,
        typer.Option(help="--engine dask: the scheduler, e.g. tcp://scheduler:8786 (default: a LocalCluster here)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="--profile province: processes of the local pool or LocalCluster (default: the cores).", min=1
        ),
    ] = None,
    work: Annotated[
        Path | None,
        typer.Option(help="--profile province: keep the generated counties here (a folder every worker reads)."),
    ] = None,
    seconds: Annotated[float, typer.Option(help="routing: seconds per instance and engine.", min=0.01)] = 10.0,
    instances: Annotated[
        str | None, typer.Option(help="routing: instance names, comma-separated (default: all 56).")
    ] = None,
    engines: Annotated[
        str, typer.Option(help="routing: engines, comma-separated (pyvrp: the planner's; ortools: a plain baseline).")
    ] = "pyvrp,ortools",
    solomon: Annotated[
        Path, typer.Option(help="routing: the Solomon folder (instances, .sol files, bks.csv).", file_okay=False)
    ] = SOLOMON_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON to stdout.")] = False,
) -> None:
    """Time the whole pipeline (load, draw, merge, schedule, check, write) with peak memory per stage.

    A benchmark, not a test: figures go in BENCHMARKS.md with the machine and the command.
    --profile province plans --counties generated counties in parallel (planner.engine) and
    reports wall time against the counties' own time and the province's totals.

    `planner bench routing` solves the Solomon VRPTW instances with the planner's route engine
    (PyVRP) and OR-Tools routing and reports each one's gap to the best known (dist_trunc1).

    Example: planner bench --profile county; planner bench --profile province --counties 8 --engine dask; planner bench routing --seconds 10
    """
    from planner.bench import generated_scenario, run_bench

    if target == "routing":
        _bench_routing(solomon, seconds, instances, engines, as_json)
        return
    scenario_file = Path(target) if target is not None else None
    if scenario_file is not None and not scenario_file.is_file():
        raise typer.BadParameter(
            _say("cli.bench.not_scenario", target=target, routing="`routing`"), param_hint="SCENARIO"
        )
    if profile is Profile.province:
        if county_profile is Profile.province:
            raise typer.BadParameter(_say("cli.bench.county_province"), param_hint="--county-profile")
        _bench_province(counties, county_profile.value, engine.value, address, workers, work, as_json)
        return
    with _reported(), tempfile.TemporaryDirectory() as folder:
        if scenario_file is None:
            err.print(_say("cli.bench.generating", profile=profile.value))
            scenario_file, name = generated_scenario(profile.value, Path(folder)), f"generated {profile.value}"
        else:
            name = None
        with _progress(_say("cli.bench.progress"), None) as step:
            result = run_bench(scenario_file, name, progress=lambda line: step(line.split(":")[0]))
    title = _say(
        "cli.bench.title", name=_shown(result.name), enterprises=f"{result.enterprises:,}", tasks=f"{result.tasks:,}"
    )
    table = RichTable(title=title, title_justify="left")
    for column in ("cli.bench.stage", "cli.bench.seconds", "cli.bench.peak", "cli.bench.stage_peak"):
        table.add_column(_say(column), justify="left" if column == "cli.bench.stage" else "right")
    for figure in result.stages:
        table.add_row(
            _label(f"stage.name.{figure.stage}", figure.stage),
            f"{figure.seconds:.2f}",
            f"{figure.peak_mb:,.0f}",
            "" if figure.stage_peak_mb is None else f"{figure.stage_peak_mb:,.0f}",
        )
    table.add_row(_say("cli.bench.total"), f"{result.total_seconds:.2f}", f"{result.peak_mb:,.0f}", "", style="bold")
    err.print(table)
    lang = console_lang()
    err.print(catalogue_text("sep.list", lang).join(f"{k} {v}" for k, v in result.quality.items()), highlight=False)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


def _bench_routing(folder: Path, seconds: float, instances: str | None, engines: str, as_json: bool) -> None:
    """planner bench routing: a line per run on stderr, the table per family, the rows as JSON."""
    from planner.routing import ENGINES, bench_routing, render_routing, summarise_routing

    chosen = [e.strip() for e in engines.split(",") if e.strip()]
    if not chosen or set(chosen) - set(ENGINES):
        raise typer.BadParameter(_say("cli.bench.engines", engines=", ".join(ENGINES)), param_hint="--engines")
    if not (folder / "bks.csv").is_file():
        raise typer.BadParameter(_say("cli.bench.no_solomon", path=folder, name="Solomon"), param_hint="--solomon")
    names = [n.strip() for n in instances.split(",") if n.strip()] if instances else None

    def heard(row: dict) -> None:
        said = _say(
            "cli.bench.routing_row",
            name=row["name"],
            engine=row["engine"],
            cost=row["cost"],
            bks=row["bks"],
            gap=f"{row['gap_pct']:+.2f}",
            vehicles=row["vehicles"],
        )
        err.print(f"  {_shown(said)}", highlight=False)

    total = len(names) * len(chosen) if names else None
    with _progress(_say("cli.bench.routing"), total) as step:

        def measured(row: dict) -> None:
            heard(row)
            step(f"{row['name']} {row['engine']}")

        rows = bench_routing(folder, seconds, chosen, names, on_row=measured)
    err.print(render_routing(rows))
    if as_json:
        typer.echo(
            json.dumps({"rows": rows, "summary": summarise_routing(rows)}, ensure_ascii=False, indent=2, default=str)
        )


def _bench_province(
    counties: int,
    county_profile: str,
    engine: str,
    address: str | None,
    workers: int | None,
    work: Path | None,
    as_json: bool,
) -> None:
    """planner bench --profile province: the counties on the engine, a line per county, then the totals."""
    from planner.bench import bench_province

    def heard(result) -> None:
        said = result.error or _say(
            "cli.bench.county",
            seconds=f"{result.seconds:.1f}",
            visits=f"{result.kpis['visits']:,}",
            peak=f"{result.peak_mb:.0f}",
            worker=result.worker,
        )
        err.print(f"  {_shown(result.name)}: {_shown(said)}", highlight=False)

    err.print(_say("cli.bench.province_start", n=counties, profile=county_profile, engine=engine))
    figures, _ = bench_province(
        counties, engine=engine, address=address, workers=workers, work=work, profile=county_profile, progress=heard
    )
    summary = figures.as_dict()
    t = figures.totals
    said = _say(
        "cli.bench.province",
        engine=engine,
        workers=figures.workers,
        counties=figures.counties,
        enterprises=f"{t['enterprises']:,}",
        tasks=f"{t['tasks']:,}",
        wall=f"{figures.wall_seconds:.1f}",
        parts=f"{figures.part_seconds:.1f}",
        speedup=summary["speedup"],
        visits=f"{t['visits']:,}",
        lower=f"{t['lower_bound_visits']:,}",
        baseline=f"{t['baseline_visits']:,}",
        unscheduled=f"{t['unscheduled']:,}",
        mandatory=f"{t['unscheduled_mandatory']:,}",
        broken=t["rules_broken"],
        failed=t["failed_parts"],
        worker_peak=f"{figures.worker_peak_mb:.0f}",
        driver_peak=f"{figures.driver_peak_mb:.0f}",
    )
    err.print(said, highlight=False, markup=False)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    if t["failed_parts"] or t["rules_broken"]:
        raise typer.Exit(1)


@app.command()
def reoptimize(
    scenario_file: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario .toml file.", exists=True)],
    previous: Annotated[Path, typer.Option("--plan", help="The previous plan folder.", exists=True, file_okay=False)],
    actuals_dir: Annotated[
        Path,
        typer.Option("--actuals", help="Actuals folder: outcomes, new demands, leave, …", exists=True, file_okay=False),
    ],
    as_of: Annotated[
        dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Re-plan from this date (YYYY-MM-DD).")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="New plan folder (the previous one is never touched).")],
    freeze_days: Annotated[
        int,
        typer.Option(
            help="Visits this many days after --as-of keep date and crew (the notice period, 0-90).", min=0, max=90
        ),
    ] = 14,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary; only errors and warnings.")] = False,
    lang: LangOption = Lang.zh,
) -> None:
    """月会商: re-plan what is left from --as-of, keeping what is done and what was announced.

    Everything before --as-of stays; planned visits keep date, crew and code while possible;
    new and failed tasks are planned around them. Writes a new plan folder with changes.parquet
    and its parent in manifest.json.

    Example: planner reoptimize scenarios/baseline.toml --plan plans/2026 --actuals actuals/2026-02 --as-of 2026-02-01 --out plans/2026-02
    """
    from planner.actuals import ACTUALS_FOLDER, load_actuals
    from planner.agenda import recorded_agenda
    from planner.export import read_plan_folder
    from planner.ledger import plan_ledger
    from planner.outputs import sha256_file
    from planner.pipeline import WRITTEN, write_plan
    from planner.reoptimize import reoptimize as replan

    started = dt.datetime.now().astimezone()
    with _reported():
        check_destination(out_dir, advice="out")
        scenario, dataset, calendar = _scenario_inputs(scenario_file)
        prior = read_plan_folder(previous)
        actuals = load_actuals(actuals_dir)
        result = replan(
            dataset,
            scenario,
            calendar,
            prior,
            actuals,
            as_of.date(),
            freeze_days,
            None if quiet else (lambda line: err.print(f"[dim]{_shown(line)}[/]", highlight=False)),
            lang=lang.value,
        )
        if result.broken:
            for line in result.broken[:50]:
                err.print(f"[red]rule broken[/]: {_shown(line)}", highlight=False)
            err.print(
                f"[bold red]internal error[/]: the plan breaks {len(result.broken)} hard rule(s); nothing was written"
            )
            raise typer.Exit(3)
        parent = {
            "plan": str(previous.resolve()),
            "manifest_sha256": sha256_file(previous / "manifest.json"),
            "as_of": as_of.date().isoformat(),
            "freeze_days": freeze_days,
            "actuals": {str(p): sha256_file(p) for p in sorted(actuals.files.values())},
        }
        ledger = plan_ledger(
            {name: getattr(result.plan.tables, name) for name in ("tasks", "visits", "visit_tasks")},
            dataset.history,
            result.dataset.enterprises,
            (scenario.horizon.start, scenario.horizon.end),
            as_of=as_of.date(),
            outcomes=actuals.outcomes,
            parent_dir=previous,
        )
        with _progress("writing the plan", len(WRITTEN)) as step:
            write_plan(
                result.plan,
                out_dir,
                result.dataset,
                scenario,
                started,
                parent=parent,
                extra_tables={"changes": result.changes, "followups": result.followups},
                record=prior.draw_record,
                attachments={f"{ACTUALS_FOLDER}/{p.name}": p for p in actuals.files.values()},
                ledger=ledger,
                progress=step,
            )
        # the agenda as write_plan put it in the folder (agenda.md, plan.xlsx, report.html)
        agenda = recorded_agenda(out_dir, result.dataset, scenario, parent, result.plan.kpis, lang.value)
    if not quiet:
        _print_plan_summary(result.plan.kpis, out_dir)
        err.print(_rich(_change_summary(result.summary), _say("cli.reopt.changes_title")))
        info = result.plan.kpis["reoptimisation"]
        err.print(
            _say(
                "cli.reopt.visits_changed",
                as_of=info["as_of"],
                changed=f"{info['visits_changed']:,}",
                freeze_days=freeze_days,
                frozen=f"{info['frozen_visits_changed']:,}",
            )
        )
        err.print(
            _say(
                "cli.reopt.agenda",
                released=len(agenda.released),
                at_risk=len(agenda.at_risk),
                merges=len(agenda.merges),
                saved=agenda.disturbances_saved,
                path=_shown(out_dir),
            )
        )
        _print_alerts(ledger, scenario, out_dir)
        if len(result.followups):
            placed = int(result.followups["scheduled"].sum())
            err.print(_say("cli.reopt.followups", n=len(result.followups), placed=placed))
    _print_new_alerts(previous, ledger, scenario, result.dataset)
    _accept(scenario.acceptance, result.plan.kpis, scenario_file)


def _change_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The re-optimisation's changes per department, its columns named in the console's language."""
    lang = console_lang()
    said = {
        c: catalogue_text(f"change_kind.{c}", lang) for c in summary.columns if f"change_kind.{c}" in catalogue(lang)
    }
    return summary.rename(columns=said | {"dept_id": _say("cli.summary.departments")})


def _print_new_alerts(previous: Path, ledger: pd.DataFrame, scenario, dataset: Dataset, limit: int = 10) -> None:
    """A warning, quiet or not, for every alert the re-optimisation creates (planner.ledger.new_alerts)."""
    from planner.ledger import LEDGER_FILE, alert_label, new_alerts

    parent = pd.read_parquet(previous / LEDGER_FILE) if (previous / LEDGER_FILE).is_file() else None
    lang = console_lang()
    names = dict(zip(dataset.departments["dept_id"], dataset.departments["name"]))
    fresh = new_alerts(parent, ledger, scenario.model_dump(mode="json"), names, lang)
    if not len(fresh):
        return
    firm = dict(zip(dataset.enterprises["uscc"], dataset.enterprises["name"]))
    err.print(_say("cli.new_alerts", n=fresh["uscc"].nunique()), highlight=False)
    for row in fresh.head(limit).itertuples(index=False):
        label = alert_label(row.alert, lang)
        line = _say(
            "cli.new_alert_line",
            name=_shown(firm.get(row.uscc, "")),
            uscc=row.uscc,
            label=label,
            message=_shown(row.message),
        )
        err.print(line, highlight=False, markup=False)
    if len(fresh) > limit:
        err.print(_say("cli.more", n=len(fresh) - limit), highlight=False, markup=False)


def _print_alerts(ledger, scenario, out_dir: Path) -> None:
    """One line of the ledger's alerts (预警) per kind, for the summary of a plan."""
    from planner.ledger import ALERT_LABELS, alerts_counts, ledger_alerts

    counts = alerts_counts(ledger_alerts(ledger, scenario.model_dump(mode="json")))
    shown = "; ".join(f"{ALERT_LABELS[code]} {n:,}" for code, n in counts.items())
    err.print(_say("cli.alerts", path=_shown(out_dir), counts=shown), highlight=False)


@app.command()
def agenda(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN_DIR", help="A plan folder.", exists=True, file_okay=False)],
    dataset_dir: Annotated[
        Path | None, typer.Option("--dataset", help="Dataset for names (default: the recorded one).")
    ] = None,
    shift_days: Annotated[
        int | None,
        typer.Option(
            help="Merge suggestions move a window by at most this many days (default: the plan's [reoptimize] shift_days).",
            min=0,
            max=90,
        ),
    ] = None,
) -> None:
    """月会商议程: frozen visits released and why, mandatory tasks at risk next month, and merge suggestions (Markdown).

    Merge suggestions: two visits at one enterprise that would be one if one side's windows moved
    by at most --shift-days days, ranked by the visits they save (减少扰企户次).

    Example: planner agenda plans/2026-03 --shift-days 14 > agenda.md
    """
    from planner.agenda import agenda_markdown, plan_agenda

    with _reported():
        found = plan_agenda(plan_dir, dataset_dir, shift_days)
    for line in agenda_markdown(found).splitlines():  # one _echo per line: it writes control characters out
        _echo(line)


@app.command()
def history(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN_DIR", help="A plan folder.", exists=True, file_okay=False)],
) -> None:
    """List a plan's lineage: it, the plan it re-optimised, and so on back to the annual plan, with KPIs.

    Example: planner history plans/2026-02
    """
    rows = []
    folder: Path | None = plan_dir
    while folder is not None:
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            kpis = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            err.print(_say("cli.history.stops", path=_shown(folder), error=_shown(error)), highlight=False)
            break
        parent = manifest.get("parent") or {}
        changes = kpis.get("reoptimisation", {})
        rows.append(
            {
                "plan": str(folder),
                "as_of": parent.get("as_of", "—"),
                "finished": manifest.get("finished", ""),
                "visits": kpis.get("visits"),
                "scheduled": kpis.get("scheduled"),
                "unscheduled_mandatory": kpis.get("unscheduled_mandatory"),
                "visits_changed": changes.get("visits_changed", "—"),
            }
        )
        folder = Path(parent["plan"]) if parent.get("plan") else None
    for row in rows:  # one plan a line, newest first, never wrapped: stdout is for scripts too
        _echo(
            "  ".join(
                f"{_say(f'cli.history.col.{key}')} {value}" if key != "plan" else str(value)
                for key, value in row.items()
            )
        )


@app.command()
def compare(
    plans: Annotated[
        list[Path],
        typer.Argument(
            metavar="PLAN_DIR_OR_SCENARIO...",
            help="Plan folders (read) or scenario files (planned, not written).",
            exists=True,
        ),
    ],
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Also write the comparison as a workbook.")] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an offline HTML chart of the comparison.")
    ] = None,
) -> None:
    """Show several plans' KPIs side by side, with each one's difference to the first.

    A scenario's acceptance rules are judged on its plan; exit 4 if any fails.

    Example: planner compare scenarios/baseline.toml scenarios/staff-cut-30.toml scenarios/campaign-food-q2.toml
    """
    from planner.acceptance import EXIT_REJECTED
    from planner.compare import compare_plans, comparison_lines, write_compare_html, write_compare_xlsx

    with _reported():
        for path in (xlsx, html):
            if path is not None:
                check_destination(path, advice="file")
        with _progress("planning the scenarios", len(plans)) as step:

            def heard(line: str) -> None:
                if not err.is_terminal:  # the bar says it on a terminal
                    err.print(f"[dim]{_shown(line)}[/]", highlight=False)
                step(line)

            comparison = compare_plans(plans, progress=heard, lang=console_lang())
    for line in comparison_lines(comparison, out.width, console_lang()):
        out.print(printable(line), markup=False, highlight=False, soft_wrap=True)
    for label, verdicts in comparison.verdicts.items():
        for v in verdicts:
            err.print(f"{_shown(label)}: {_verdict(v)}", highlight=False)
    with _reported():
        if xlsx is not None:
            write_compare_xlsx(comparison, xlsx)
            err.print(_say("cli.wrote", path=_shown(xlsx)))
        if html is not None:
            write_compare_html(comparison, html)
            err.print(_say("cli.wrote", path=_shown(html)))
    if any(not v.passed for verdicts in comparison.verdicts.values() for v in verdicts):
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def sample(
    scenario_file: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario .toml file.", exists=True)],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder to create for the draw.")] = None,
    commit: Annotated[
        bool, typer.Option("--commit", help="Only print the seed's commitment hash, to publish before the draw.")
    ] = False,
    seed: Annotated[
        int | None, typer.Option(help="Draw with another seed than the scenario's (needs --reason).")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why the draw is redone with another seed; recorded.")] = None,
) -> None:
    """双随机: draw the enterprises of every sampling-plan row and write draws, random tasks and the record.

    Rows sharing a joint_group are drawn with the same permanent random numbers, so their
    samples overlap as much as possible while each stays a uniform sample of its own pool.

    Example: planner sample scenarios/baseline.toml --out plans/2026-draw
    """
    with _reported():
        scenario = load_scenario(scenario_file)
        chosen_seed = scenario.seed if seed is None else seed
        if commit:
            out.print(seed_commitment(chosen_seed))
            if chosen_seed < 2**32:
                err.print(_say("cli.sample.weak_seed"))
            return
        if chosen_seed != scenario.seed and not reason:
            raise InputError(
                [
                    Problem(
                        str(scenario_file),
                        None,
                        "seed",
                        str(chosen_seed),
                        msg("input.option.redraw_reason", option="--reason"),
                        label="key",
                    )
                ]
            )
        if out_dir is None:
            raise InputError(
                [Problem("command line", None, "--out", None, msg("input.option.draw_out"), label="option")]
            )
        check_destination(out_dir, advice="out")
        dataset = load_scenario_dataset(scenario)
        draw = draw_sampling_plan(
            dataset, chosen_seed, scenario.caps.positive_list_per_year, scenario.caps.per_dept_per_year
        )
        record = draw_record(draw, scenario, dataset, reason if chosen_seed != scenario.seed else None)

        def fill(folder: Path) -> None:
            write_table(draw.draws, folder / "draws.parquet")
            write_table(draw.tasks, folder / "tasks.parquet")
            (folder / DRAW_RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")

        write_folder(out_dir, fill)
    _print_problems(dataset.warnings)
    for line in draw.shortfalls:
        err.print(_say("cli.sample.shortfall", line=_shown(line)), highlight=False)
    out.print(_rich(draw.overlap.round(3), _say("cli.sample.overlap")))
    said = _say(
        "cli.sample.wrote",
        path=_shown(out_dir),
        tasks=f"{len(draw.tasks):,}",
        enterprises=f"{draw.tasks['uscc'].nunique():,}",
        rows=f"{draw.draws['plan_id'].nunique():,}",
        seed=chosen_seed,
    )
    err.print(said)


@app.command()
def verify(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN_DIR", help="A plan folder.", exists=True, file_okay=False)],
    dataset_dir: Annotated[
        Path | None,
        typer.Argument(metavar="[DATASET]", help="The dataset it was made from (default: the recorded one)."),
    ] = None,
    pubkey: Annotated[
        Path | None,
        typer.Option("--pubkey", help="Public key (PEM): the plan must carry a valid manifest.sig by it."),
    ] = None,
    replan: Annotated[
        bool,
        typer.Option(help="Plan again from the inputs and seed and compare every table (as long as the plan took)."),
    ] = True,
) -> None:
    """Re-check a plan: hashes, signature, hard rules, draw, and every table and figure recomputed; exit 0 if verified, 1 if not.

    Example: planner verify plans/2026 data/sample-county --pubkey keys/plan-signing.pub
    """
    from planner.verify import check_name, verify_plan

    with _reported():
        result = verify_plan(plan_dir, dataset_dir, pubkey=pubkey, replan=replan)
    lang = console_lang()
    for finding in result.findings:
        colour = "red" if finding.severity == "error" else "yellow"
        severity = _say("cli.severity.error" if finding.severity == "error" else "cli.severity.warning")
        err.print(
            _say("verify.severity_line", severity=f"[{colour}]{severity}[/]", line=_shown(finding.line(lang))),
            highlight=False,
        )
    if result.ok:
        checks = catalogue_text("sep.list", lang).join(check_name(c, lang) for c in result.checked)
        _echo(_say("cli.verified", path=plan_dir, checks=checks, sha=result.manifest_sha256))
        return
    err.print(_say("cli.not_verified", n=len(result.errors)))
    raise typer.Exit(1)


@app.command()
def sign(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN_DIR", help="A plan folder.", exists=True, file_okay=False)],
    key: Annotated[Path, typer.Option("--key", help="Private key (PEM, from planner keygen).")],
    force: Annotated[bool, typer.Option(help="Replace an existing manifest.sig.")] = False,
) -> None:
    """Sign a plan: write manifest.sig, an Ed25519 signature of its manifest.json (which hashes every file).

    Every file is first checked against its hash in the manifest; run planner verify before
    signing to check the rest.

    Example: planner sign plans/2026 --key keys/plan-signing.key
    """
    from planner.signing import sign_plan
    from planner.verify import outputs_as_recorded

    with _reported():
        outputs_as_recorded(plan_dir)  # never sign a folder whose files are not those the manifest hashes
        path = sign_plan(plan_dir, key, replace=force)
    _echo(_say("cli.signed", path=path))


@app.command()
def keygen(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for plan-signing.key and plan-signing.pub.")],
) -> None:
    """Make an Ed25519 key pair for signing plans: plan-signing.key (private, mode 0600) and plan-signing.pub.

    Keep the private key with the official who approves plans; give auditors the public key.

    Example: planner keygen --out keys
    """
    from planner.signing import generate_keys

    with _reported():
        pair = generate_keys(out_dir)
    _echo(_say("cli.keygen.private", path=pair.private_key))
    _echo(_say("cli.keygen.public", path=pair.public_key, fingerprint=pair.fingerprint))


@app.command()
def ledger(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN", help="A plan folder.", exists=True, file_okay=False)],
    uscc: Annotated[str | None, typer.Option("--uscc", help="Only this enterprise (统一社会信用代码).")] = None,
    dataset_dir: Annotated[
        Path | None, typer.Option("--dataset", help="Dataset for names (default: the recorded one).")
    ] = None,
) -> None:
    """一企一档: each enterprise's checks per year and department (history, done, planned), caps used, next date, results, and alerts (预警).

    Example: planner ledger plans/2026-03 --uscc 91330481MA2B3C4D5X
    """
    from planner.export import read_plan_folder, recorded_dataset
    from planner.ledger import LEDGER_FILE, ledger_lines

    with _reported():
        plan = read_plan_folder(plan_dir)
        path = plan_dir / LEDGER_FILE
        if not path.is_file():
            raise InputError([Problem(str(path), None, None, None, msg("input.plan.no_ledger"))])
        rows = pd.read_parquet(path)
        folder = dataset_dir or recorded_dataset(plan)
        names, depts = {}, {}
        if folder is not None:
            data = load_dataset(folder)
            names = dict(zip(data.enterprises["uscc"], data.enterprises["name"]))
            depts = dict(zip(data.departments["dept_id"], data.departments["name"]))
        key = uscc.strip().upper() if uscc else None
        lines = ledger_lines(rows, plan.manifest.get("scenario") or {}, names, depts, key)
    if key is not None and not lines:
        _echo(f"{names.get(key, key)} {key}: 本计划年度内没有检查记录")
        return
    for line in lines:
        _echo(line)


@app.command()
def credit(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN", help="A plan folder.", exists=True, file_okay=False)],
    out: Annotated[Path, typer.Option("--out", help="The enterprises update file to write (.csv or .xlsx).")],
    dataset_dir: Annotated[
        Path | None, typer.Option("--dataset", help="The plan's dataset (default: the recorded one).")
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="The year scored (default: the plan's first).")] = None,
    force: Annotated[bool, typer.Option(help="Replace existing files.")] = False,
) -> None:
    """信用积分: score each enterprise's checks of the year, suggest its tier, and write an enterprises update file with the reasons.

    Nothing changes by itself: the official reviews the file, then gives it to the next re-optimisation (actuals/enterprises) or next year's scenario (enterprises_update).

    Example: planner credit plans/2026-12 --out 信用/enterprises.csv
    """
    from planner.credit import credit_plan, reasons_path, write_update

    with _reported():
        if out.suffix.lower() not in (".csv", ".xlsx"):
            raise InputError(
                [
                    Problem(
                        str(out),
                        None,
                        None,
                        None,
                        msg("input.credit.bad_suffix", allowed=".csv / .xlsx", suffix=out.suffix),
                    )
                ]
            )
        for path in (out, reasons_path(out)):
            check_destination(path, replace=force, advice="out_or_force")
        result = credit_plan(plan_dir, dataset_dir, year)
        reasons = write_update(result, out)
    scores = result.scores
    err.print(
        _say(
            "credit.summary",
            year=result.year,
            scored=f"{len(scores):,}",
            changed=f"{int(scores['changed'].sum()):,}",
            path=_shown(out),
            tiers=f"{int((scores['tier'] != scores['old_tier']).sum()):,}",
            sandbox=f"{int(result.reasons['优信豁免沙盒'].str.contains('→').sum()):,}",
            positive=f"{int(result.reasons['合规正面清单'].str.contains('→').sum()):,}",
            reasons=_shown(reasons),
        ),
        highlight=False,
    )
    err.print(_say("credit.apply", name="enterprises" + out.suffix.lower(), key="enterprises_update", path=_shown(out)))


@app.command()
def publish(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN", help="A plan folder.", exists=True, file_okay=False)],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to create for publication (never overwritten).")],
    dataset_dir: Annotated[
        Path | None, typer.Option("--dataset", help="The plan's dataset (default: the recorded one).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing folder (it is moved aside, not deleted).")] = False,
) -> None:
    """一公开: write what may be made public — the draw record, the plan at item level, and the checks done with their results (CSV, xlsx, publish.json).

    An enterprise is named only once its check is done; no inspector, crew or internal reason is written.

    Example: planner publish plans/2026-03 --out public/2026-03
    """
    from planner.publish import publish_plan

    with _reported():
        check_destination(out_dir, replace=force)
        result = publish_plan(plan_dir, out_dir, dataset_dir, replace=force)
    for line in result.warnings:
        err.print(_say("cli.warning", line=_shown(line)), highlight=False)
    err.print(
        f"wrote {_shown(out_dir)}: {', '.join(result.files)}; {result.enterprises_named:,} enterprises named with results"
    )


@app.command("verify-draw")
def verify_draw_command(
    plan_dir: Annotated[Path, typer.Argument(metavar="PLAN_DIR", help="A draw or plan folder.", exists=True)],
    dataset_dir: Annotated[
        Path | None, typer.Option("--dataset", help="Dataset to recompute from (default: the recorded one).")
    ] = None,
) -> None:
    """Recompute a recorded draw from its seed and dataset; exit 0 if identical, 1 listing differences.

    Example: planner verify-draw plans/2026-draw
    """
    with _reported():
        check = verify_draw(plan_dir, dataset_dir)
    for line in check.input_changes:
        err.print(_say("cli.draw.input_changed", line=_shown(line)), highlight=False)
    if check.confirmed:
        out.print(_say("cli.draw.confirmed", path=_shown(plan_dir / "draws.parquet")), highlight=False)
        return
    for line in check.differences:
        out.print(line, highlight=False, markup=False)
    err.print(_say("cli.draw.not_confirmed", n=len(check.differences)))
    raise typer.Exit(1)


if __name__ == "__main__":
    app()
