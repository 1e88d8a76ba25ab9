"""Hostile and careless input: bounded resources, no traceback, no silent wrong result (issue 16).

Each case is what an auditor or a careless user tried: huge or malformed tables, absurd
scenarios, output paths that cannot be written, names that break file systems, terminals or
HTML, and two runs racing for one folder. Every one must end in a clear sentence (exit 2) or a
correct result. The hostile files are generated here, as small as still proves the point; the
memory cases run the real command under an address-space limit (RLIMIT_AS).
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from planner import cli
from planner.cli import app
from planner.dataset import load_dataset
from planner.outputs import OutputError, OutputExistsError, check_destination, write_folder
from planner.problems import InputError
from planner.scenario import load_scenario
from planner.tables import MAX_COLUMNS, MAX_ERRORS
from tests.conftest import ACME, COOP, valid_tables, write_csv, write_dataset

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
SCENARIO = 'name = "t"\ndataset = "ds"\nseed = 1\n[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'

# ---------------------------------------------------------------- running the command


#: Runs `planner ARGS` in a fresh interpreter whose address space may grow by at most HEADROOM
#: once the planner and its libraries are imported: a reader that holds a hostile file whole, or
#: pads it, dies with MemoryError instead of passing on a machine with memory to spare.
DRIVER = """
import re, resource, sys
import openpyxl, pandas, pyarrow.parquet, planner.cli
size = int(re.search(r"VmSize:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) * 1024
limit = size + int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.argv = ["planner", *sys.argv[2:]]
planner.cli.app()
"""
HEADROOM = 768 << 20
LIMITED_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2", "PYTHONPATH": str(ROOT)}
needs_proc = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/self/status (Linux)")


def planner_limited(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", DRIVER, str(HEADROOM), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=os.environ | LIMITED_ENV,
    )


def planner_run(*args: str, cwd: Path | None = None, fsize: int | None = None) -> subprocess.CompletedProcess:
    """`python -m planner.cli ARGS`; ``fsize``: the largest file it may write (ulimit -f)."""

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, "-m", "planner.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        preexec_fn=limit if fsize else None,
    )


def refused(result, *phrases: str) -> None:
    """Exit 2, one clear message naming ``phrases``, no traceback."""
    printed = result.stderr
    code = getattr(result, "returncode", None)
    assert (result.exit_code if code is None else code) == 2, printed
    assert "Traceback" not in printed and "MemoryError" not in printed, printed
    for phrase in phrases:
        assert phrase in printed, (phrase, printed)


def error_count(stderr: str, file: str) -> int:
    """How many errors the report says ``file`` has ('enterprises.csv: 1,001 errors')."""
    found = re.search(re.escape(file) + r": ([0-9,]+) errors?", stderr)
    assert found, stderr
    return int(found.group(1).replace(",", ""))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """tmp_path with the valid tables (ds/) and a scenario (s.toml)."""
    write_dataset(tmp_path / "ds", valid_tables())
    (tmp_path / "s.toml").write_text(SCENARIO, encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------- hostile files


def junk_csv(path: Path, megabytes: int, header: list[str] | None = None, seed: int = 16) -> Path:
    """Random printable text with commas and line breaks (no quotes), after ``header`` if given."""
    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789 ,,,,\n\n", dtype=np.uint8)
    body = alphabet[rng.integers(0, len(alphabet), megabytes << 20)].tobytes()
    path.write_bytes(((",".join(header) + "\n").encode() if header else b"") + body)
    return path


def xlsx_of(path: Path, sheet_rows: list[str], shared_strings: bytes | None = None, strings_mb: int = 0) -> Path:
    """A minimal workbook written part by part: ``sheet_rows`` are <row> elements; the shared strings
    part holds ``shared_strings``, or one string of ``strings_mb`` MB of 'a' (a few MB compressed)."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(
            "[Content_Types].xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                "</Types>"
            ),
        )
        archive.writestr(
            "_rels/.rels",
            (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
        )
        archive.writestr(
            "xl/workbook.xml",
            (
                f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets>'
                '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
            ),
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
                f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
            ),
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>'.encode())
            for start in range(0, len(sheet_rows), 10_000):
                sheet.write("".join(sheet_rows[start : start + 10_000]).encode())
            sheet.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
            strings.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {ns} count="1" uniqueCount="1"><si><t>'.encode())
            if shared_strings is not None:
                strings.write(shared_strings)
            chunk = b"a" * (1 << 20)
            for _ in range(strings_mb):
                strings.write(chunk)
            strings.write(b"</t></si></sst>")
    return path


def inline_row(number: int, cells: list[str], columns: list[str] | None = None) -> str:
    """One <row> of inline strings, in columns A, B … (or ``columns``)."""
    columns = columns or [chr(ord("A") + i) for i in range(len(cells))]
    return (
        f'<row r="{number}">'
        + "".join(f'<c r="{c}{number}" t="inlineStr"><is><t>{v}</t></is></c>' for c, v in zip(columns, cells))
        + "</row>"
    )


# ---------------------------------------------------------------- bounded resources


@needs_proc
def test_junk_csv_stops_after_the_error_cap(workdir):
    """24 MB of junk under a valid header: exit 2 at once with the first errors named, a note that
    reading stopped, and no more than MAX_ERRORS errors held (before: 3 M errors, minutes, gigabytes)."""
    junk_csv(workdir / "ds" / "enterprises.csv", 24, header=valid_tables()["enterprises"][0])
    result = planner_limited("validate", "ds", cwd=workdir)
    refused(result, "enterprises.csv", "reading stopped after 1,000 errors")
    assert re.search(r"error: row [0-9]+, column ", result.stderr)
    assert error_count(result.stderr, "enterprises.csv") <= MAX_ERRORS + 1


@needs_proc
def test_junk_without_a_header_is_named_not_listed(workdir):
    """A file of junk from its first byte: the missing columns and a few rows, not a row per line."""
    junk_csv(workdir / "ds" / "inspectors.csv", 12)
    result = planner_limited("validate", "ds", cwd=workdir)
    refused(result, "inspectors.csv", "required column")
    assert error_count(result.stderr, "inspectors.csv") <= MAX_ERRORS + 10


@needs_proc
def test_a_line_of_a_million_commas(workdir):
    """A header and a row of 10⁶ commas (before: 3.3 GB for a million empty columns): the header is
    cut to the table and the row read as the blank row it is; a value out there is refused."""
    path = workdir / "ds" / "departments.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    commas = "," * 1_000_000
    path.write_text(rows[0] + commas + "\n" + "\n".join(rows[1:]) + "\n" + commas + "\n", encoding="utf-8")
    result = planner_limited("validate", "ds", cwd=workdir)
    assert result.returncode == 0, result.stderr
    path.write_text(rows[0] + commas + "x\n" + "\n".join(rows[1:]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_dataset(workdir / "ds")
    (error,) = caught.value.errors
    assert f"the header has 1,000,002 cells; a table has at most {MAX_COLUMNS} columns" in error.rule


@needs_proc
def test_a_cell_at_xfd1(workdir):
    """A workbook with a cell at XFD1, Excel's last column (before: every row padded to 16,384
    columns, 2 GB): the header is refused, naming the column."""
    header = valid_tables()["departments"][0]
    rows = [inline_row(1, header).replace("</row>", '<c r="XFD1" t="inlineStr"><is><t>x</t></is></c></row>')]
    rows += [inline_row(n, [f"D{n}", "局"]) for n in range(2, 20_002)]
    (workdir / "ds" / "departments.csv").unlink()
    xlsx_of(workdir / "ds" / "departments.xlsx", rows)
    refused(
        planner_limited("validate", "ds", cwd=workdir),
        "departments.xlsx",
        f"the header reaches column XFD (16,384 columns); a table has at most {MAX_COLUMNS}",
    )


@needs_proc
def test_shared_strings_bomb(workdir):
    """512 MB of shared strings in a 2 MB workbook: refused by the recorded size, never unpacked."""
    (workdir / "ds" / "departments.csv").unlink()
    path = xlsx_of(workdir / "ds" / "departments.xlsx", [inline_row(1, ["dept_id", "name"])], strings_mb=512)
    assert path.stat().st_size < 4 << 20
    refused(
        planner_limited("validate", "ds", cwd=workdir),
        "departments.xlsx",
        "xl/sharedStrings.xml unpacks to 512 MB, more than the 128 MB",
    )


@needs_proc
def test_ten_thousand_year_horizon(workdir):
    """A horizon from year 1 to 9999 (before: 212 s to fail): refused at once, naming the key."""
    (workdir / "s.toml").write_text(SCENARIO.replace("2026-01-01", "0001-01-01").replace("2026-12-31", "9999-12-31"))
    refused(planner_limited("validate", "s.toml", cwd=workdir), "key horizon", "at most 1,096 days")


def test_error_cap_holds_for_every_format(tmp_path):
    """More bad rows than the cap in XLSX and Parquet too: the first MAX_ERRORS errors by row, then a note."""
    tables = valid_tables()
    header = tables["departments"][0]
    rows = [header] + [[f"D{i}", ""] for i in range(1500)]  # a blank name is an error on every row
    for fmt in ("xlsx", "parquet"):
        folder = write_dataset(tmp_path / fmt, {k: v for k, v in tables.items() if k != "departments"})
        frame = pd.DataFrame(rows[1:], columns=header)
        if fmt == "xlsx":
            frame.to_excel(folder / "departments.xlsx", index=False)
        else:
            frame.to_parquet(folder / "departments.parquet")
        with pytest.raises(InputError) as caught:
            load_dataset(folder)
        mine = [p for p in caught.value.errors if p.file.endswith(f"departments.{fmt}")]
        assert len(mine) == MAX_ERRORS + 1 and "reading stopped after 1,000 errors" in mine[-1].rule
        assert [p.row for p in mine[:3]] == [2, 3, 4]


# ---------------------------------------------------------------- output paths


def test_out_root_and_below_a_file(workdir, monkeypatch):
    """--out / (with or without --force) and --out below a file: exit 2 with a sentence, before any work."""
    monkeypatch.chdir(workdir)
    refused(runner.invoke(app, ["plan", "s.toml", "--out", "/"]), "/ is the root folder")
    refused(runner.invoke(app, ["plan", "s.toml", "--out", "/", "--force"]), "/ is the root folder")
    (workdir / "afile").write_text("x")
    for command in (["plan", "s.toml"], ["sample", "s.toml"], ["demo-data", "--profile", "tiny"]):
        refused(
            runner.invoke(app, [*command, "--out", "afile/plan"]),
            "afile/plan cannot be created",
            "is a file, not a folder",
        )


def test_out_in_a_folder_that_cannot_be_written(workdir, monkeypatch):
    """A read-only folder is found before the solve: the planner's own check refuses it (simulated
    here, as the tests may run as root) and nothing is planned; /proc refuses even root."""
    import planner.pipeline

    (workdir / "locked").mkdir()
    monkeypatch.chdir(workdir)
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: Path(path).name != "locked" and access(path, mode, **kw))
    monkeypatch.setattr(planner.pipeline, "make_plan", lambda *a, **k: pytest.fail("planned before checking --out"))
    result = runner.invoke(app, ["plan", "s.toml", "--out", "locked/plan"])
    refused(result, "locked/plan cannot be created", "is not writable")
    monkeypatch.undo()
    if Path("/proc").is_dir():
        refused(planner_run("plan", "s.toml", "--out", "/proc/planner-test/plan", cwd=workdir), "is not writable")
    (workdir / "locked").chmod(0o555)
    try:
        if not os.access(workdir / "locked", os.W_OK):  # not root: the real permission holds
            refused(planner_run("plan", "s.toml", "--out", "locked/plan", cwd=workdir), "is not writable")
    finally:
        (workdir / "locked").chmod(0o755)


def test_a_name_too_long(workdir, monkeypatch):
    """A 250-character folder name leaves no room for the temporary name: exit 2 before any work."""
    monkeypatch.chdir(workdir)
    refused(runner.invoke(app, ["plan", "s.toml", "--out", "p" * 250]), "has 250 bytes", "fit on this file system")
    with pytest.raises(OutputError):
        check_destination(workdir / ("规" * 80))  # 240 bytes of UTF-8


def test_file_size_limit_while_writing(workdir):
    """ulimit -f (a full disk answers the same way): exit 2 naming the file, and nothing written."""
    result = planner_run("plan", "s.toml", "--out", "plan", cwd=workdir, fsize=1 << 20)
    refused(result, "File too large", "nothing was written")
    assert not (workdir / "plan").exists() and not list(workdir.glob(".plan.*"))


def test_full_disk_while_writing(workdir, monkeypatch):
    """No space left on device while the report is written: exit 2, the temporary folder removed."""

    def full(path, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.chdir(workdir)
    monkeypatch.setattr("planner.report.write_report", full)
    refused(runner.invoke(app, ["plan", "s.toml", "--out", "plan"]), "report.html: No space left on device")
    assert not (workdir / "plan").exists() and not list(workdir.glob(".plan.*"))


def test_unreadable_dataset_folder(workdir, monkeypatch):
    """A dataset folder that may not be listed: exit 2 with a sentence (simulated for root, real otherwise)."""

    def denied(self):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.chdir(workdir)
    with monkeypatch.context() as patched:
        patched.setattr(Path, "iterdir", denied)
        refused(runner.invoke(app, ["validate", "s.toml"]), "the dataset folder cannot be read: Permission denied")
    (workdir / "ds").chmod(0)
    try:
        if not os.access(workdir / "ds", os.R_OK):
            refused(planner_run("validate", "s.toml", cwd=workdir), "cannot be read")
    finally:
        (workdir / "ds").chmod(0o755)


# ---------------------------------------------------------------- hostile scenarios


def test_extends_chain_a_thousand_deep(tmp_path):
    """Each file extends the next, 1,000 deep (before: RecursionError): one sentence naming the chain."""
    for n in range(1000):
        (tmp_path / f"s{n}.toml").write_text(f'extends = "s{n + 1}.toml"\n')
    (tmp_path / "s1000.toml").write_text(SCENARIO)
    with pytest.raises(InputError) as caught:
        load_scenario(tmp_path / "s0.toml")
    assert "extends chain is longer than 20 files" in str(caught.value.problems[0])


@pytest.mark.parametrize(
    "nesting",
    [
        "x = " + "[" * 1000 + "]" * 1000,
        "x = " + "{a = " * 1000 + "1" + "}" * 1000,
        "[" + ".".join(["a"] * 1000) + "]\nb = 1",
    ],
)
def test_toml_nested_a_thousand_deep(tmp_path, nesting):
    """Arrays, inline tables or dotted tables nested 1,000 deep: one sentence, no RecursionError."""
    (tmp_path / "s.toml").write_text(SCENARIO + nesting + "\n")
    result = runner.invoke(app, ["validate", str(tmp_path / "s.toml")])
    refused(result, "nests tables or arrays more than 20 levels deep")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("[caps]\nper_dept_per_year = 9223372036854775808", "caps.per_dept_per_year"),
        ("[caps]\npositive_list_per_year = 100000", "caps.positive_list_per_year"),
        ("[travel]\nspeed_kmh = 1e-300", "travel.speed_kmh"),
        ("[solver]\ntime_limit_s = 1e300", "solver.time_limit_s"),
        ("seed = 9223372036854775808", "seed"),
        ("seed = -1", "seed"),
    ],
)
def test_absurd_numbers_are_refused_by_validate(workdir, line, key):
    """Keys the solver cannot take (2**63 crashed OR-Tools; a speed of 1e-300 broke the checker):
    `planner validate` names the key, so `planner plan` never starts."""
    text = line + "\n" + SCENARIO.replace("seed = 1\n", "") if key == "seed" else SCENARIO + line + "\n"
    (workdir / "s.toml").write_text(text)
    refused(runner.invoke(app, ["validate", str(workdir / "s.toml")]), f"key {key}")


def test_staff_remove_unknown_is_found_by_validate(workdir):
    """`staff.remove = ["NOPE"]` was valid to validate and an error to plan: both say it now."""
    (workdir / "s.toml").write_text(SCENARIO + '[staff]\nremove = ["NOPE"]\n')
    for command in ("validate", "plan"):
        args = [command, str(workdir / "s.toml")] + (["--out", str(workdir / "plan")] if command == "plan" else [])
        refused(runner.invoke(app, args), "key staff.remove, value 'NOPE': not an inspector_id of the dataset")


# ---------------------------------------------------------------- silent wrong results


def test_one_certificate_is_one_person(tmp_path):
    """The same officer (name and 执法证号) under two ids in two departments would be booked twice a
    day: an error naming both rows; so is an extra inspector holding a roster certificate."""
    tables = valid_tables()
    tables["inspectors"].append(["XF009", "张伟", "XF", "33048100101", "", "", ""])  # SJ001's certificate
    folder = write_dataset(tmp_path / "ds", tables)
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    (error,) = caught.value.errors
    assert (error.row, error.column, error.value) == (6, "cert_no", "33048100101")
    assert "same 执法证号 as inspector SJ001 on row 2" in error.rule
    tables["inspectors"].pop()
    write_dataset(folder, tables)
    write_csv(tmp_path, "extra", [tables["inspectors"][0], ["XF009", "张伟", "XF", "33048100101", "", "", ""]])
    (tmp_path / "s.toml").write_text(SCENARIO + '[staff]\nextra_inspectors = "extra.csv"\n')
    refused(runner.invoke(app, ["validate", str(tmp_path / "s.toml")]), "extra.csv", "same 执法证号 as inspector SJ001")


@pytest.mark.parametrize(
    "cells", [[["甲公司", "x"], ["b"], ["c"]], [b"\xe9\x81\x93", b"b", b"c"]], ids=["lists", "bytes"]
)
def test_parquet_cells_that_are_not_one_text(tmp_path, cells):
    """A Parquet name column of lists or bytes was loaded as "['…' 'x']" / "b'\\xe9…'": an error per cell."""
    tables = valid_tables()
    header, *rows = tables["enterprises"]
    folder = write_dataset(tmp_path / "ds", {k: v for k, v in tables.items() if k != "enterprises"})
    columns = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    columns["name"] = cells
    pq.write_table(pa.table(columns), folder / "enterprises.parquet")
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    errors = [e for e in caught.value.errors if e.column == "name"]
    assert [e.row for e in errors] == [2, 3, 4]
    rule = "holds a list or a structure, not one value" if isinstance(cells[0], list) else "holds binary data (bytes)"
    assert all(rule in e.rule for e in errors)


def test_control_characters_never_reach_the_terminal(tmp_path, monkeypatch):
    """An escape sequence in a header and in a department name is shown written out, never raw."""
    tables = valid_tables()
    tables["departments"][0].append("note\x1b]0;owned\x07")
    tables["departments"][1][1] = "市场监管局\x1b[2J\x9b31m"
    for row in tables["departments"][1:]:
        row.append("")
    folder = write_dataset(tmp_path / "ds", tables)
    monkeypatch.setattr(cli.out, "width", 200)  # the name on one line
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.stderr
    printed = result.stdout + result.stderr
    assert not re.search("[\x1b\x07\x9b]", printed)
    assert "note\\x1b]0;owned\\x07" in result.stderr and "\\x1b[2J" in result.stdout


def test_report_names_are_text_not_links():
    """A department name holding <a href=…> was a live link in a chart legend; every chart text is escaped."""
    from planner.report import render_report
    from tests.test_report import tiny_inputs

    inputs = tiny_inputs('<a href="https://evil.example">甲公司</a>')
    inputs["departments"] = inputs["departments"].assign(name=['<a href="https://evil.example">局</a>', "<b>队</b>"])
    inputs["townships"] = inputs["townships"].assign(township=["<i>城关</i>"])
    page = render_report(**inputs)
    assert "\\u003ca href" not in page and "\\u003cb>队" not in page and "\\u003ci>" not in page
    assert "&lt;a href=&quot;https://evil.example&quot;&gt;局&lt;/a&gt;" in page


# ---------------------------------------------------------------- exports


@pytest.fixture(scope="module")
def awkward_plan(tmp_path_factory) -> Path:
    """A planned county whose townships differ only by characters a file name cannot hold, and
    whose fire department has a 96-character name."""
    root = tmp_path_factory.mktemp("awkward")
    tables = valid_tables()
    tables["townships"] = [
        tables["townships"][0],
        ["城关/街道", "30.50", "120.60"],
        ["城关?街道", "30.58", "120.72"],
        ["城关_街道", "30.55", "120.65"],
    ]
    for row, town in zip(tables["enterprises"][1:], ["城关/街道", "城关?街道", "城关_街道"]):
        row[2] = town
    tables["departments"][2][1] = "消" * 96
    tables["demands"].append(["SJ-2", "SJ", COOP, "食品经营检查", "key", "2026-03-01", "2026-05-31", "60", "", "", ""])
    write_dataset(root / "ds", tables)
    (root / "s.toml").write_text(SCENARIO)
    result = planner_run("plan", "s.toml", "--out", "plan", "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def test_export_by_township_keeps_every_slice(awkward_plan, monkeypatch):
    """城关/街道, 城关?街道 and 城关_街道 were one file written three times: three distinct, safe names."""
    monkeypatch.chdir(awkward_plan)
    result = runner.invoke(app, ["export", "plan", "--by", "township", "--format", "csv", "--out", "towns"])
    assert result.exit_code == 0, result.stderr
    record = json.loads((awkward_plan / "towns" / "export.json").read_text(encoding="utf-8"))
    folders = {s["label"]: s["files"][0].split("/")[0] for s in record["slices"]}
    assert set(folders) == {"城关/街道", "城关?街道", "城关_街道"}
    assert folders["城关_街道"] == "城关_街道" and len(set(folders.values())) == 3
    assert all(re.fullmatch(r"城关_街道-[0-9a-f]{8}", folders[t]) for t in ("城关/街道", "城关?街道"))
    assert sorted(p.name for p in (awkward_plan / "towns").iterdir() if p.is_dir()) == sorted(folders.values())


def test_export_by_dept_with_a_long_name(awkward_plan, monkeypatch):
    """A 96-character department name (288 bytes, more than a file name may have): cut, tagged, written."""
    monkeypatch.chdir(awkward_plan)
    result = runner.invoke(app, ["export", "plan", "--by", "dept", "--out", "depts"])
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in (awkward_plan / "depts").glob("*.xlsx"))
    assert len(names) == 2 and all(len(n.encode()) <= 130 for n in names)
    assert any(re.fullmatch(r"XF-消+-[0-9a-f]{8}\.xlsx", n) for n in names)


# ---------------------------------------------------------------- contract and layout


def test_one_digit_industry_prefix(tmp_path):
    """'3' is a GB/T 4754 digit prefix (divisions 30–39): loaded, and it draws from its divisions."""
    from planner.sampling import draw_sampling_plan

    tables = valid_tables()
    tables["sampling_plan"][1][3] = "2"
    tables["sampling_plan"][2][3] = "0;52"
    data = load_dataset(write_dataset(tmp_path / "ds", tables))
    assert list(data.sampling_plan["industries"]) == [("2",), ("0", "52")]
    draws = draw_sampling_plan(data, 1, 1, 2).draws
    assert set(draws.loc[draws["plan_id"] == "SJ-R-01", "uscc"]) == {ACME}  # industry 2614
    tables["sampling_plan"][1][3] = "C"
    with pytest.raises(InputError) as caught:
        load_dataset(write_dataset(tmp_path / "ds", tables))
    assert "1–4 digits, or 2–4 after the section letter" in caught.value.errors[0].rule


def test_a_byte_neither_utf8_nor_gbk_is_named_by_line(tmp_path):
    """A byte that neither encoding reads: its line and byte offset, for UTF-8 and for GBK text."""
    for encoding in ("utf-8", "gbk"):
        path = write_csv(tmp_path, "departments", valid_tables()["departments"], encoding=encoding)
        data = path.read_bytes()
        at = data.index("示范县消防".encode(encoding))
        path.write_bytes(data[:at] + b"\xff" + data[at:])
        write_dataset(tmp_path, {k: v for k, v in valid_tables().items() if k != "departments"})
        with pytest.raises(InputError) as caught:
            load_dataset(tmp_path)
        (error,) = [e for e in caught.value.errors if e.file.endswith("departments.csv")]
        assert error.value == "0xFF" and f"line 3, byte {at:,}: neither UTF-8 nor GBK/GB18030" in error.rule


def test_top_level_cli_and_license():
    """`python cli.py --help` works from the repository root; LICENSE is the Apache-2.0 text pyproject declares."""
    result = subprocess.run([sys.executable, "cli.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "validate" in result.stdout, result.stderr
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


# ---------------------------------------------------------------- two runs, one folder


def test_racing_writers_without_replace(tmp_path):
    """Two writers past the existence check at once: exactly one folder wins, the other is refused;
    nothing is moved aside (before: both 'won', one silently moved to .replaced-…)."""
    for round_ in range(5):
        out = tmp_path / f"out{round_}"
        both_filled = threading.Barrier(2)
        outcome: dict[int, object] = {}

        # the threads are joined inside the round, so the closures see this round's objects
        def run(n: int) -> None:
            def fill(folder: Path) -> None:
                (folder / "who.txt").write_text(str(n))
                both_filled.wait(10)

            try:
                outcome[n] = write_folder(out, fill)
            except OutputExistsError as error:
                outcome[n] = error

        threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        refusals = [n for n, o in outcome.items() if isinstance(o, OutputExistsError)]
        assert len(refusals) == 1 and "already exists" in str(outcome[refusals[0]]), outcome
        assert (out / "who.txt").read_text() == str(3 - refusals[0])
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(out.name)) == [out.name]


def test_racing_writers_with_replace(tmp_path):
    """With replace: the name holds one complete folder, and every folder displaced is kept and
    named by the writer that moved it."""
    out = tmp_path / "out"
    write_folder(out, lambda folder: (folder / "who.txt").write_text("0"))
    both_filled = threading.Barrier(3)
    moved: dict[int, tuple] = {}

    def run(n: int) -> None:
        def fill(folder: Path) -> None:
            (folder / "who.txt").write_text(str(n))
            both_filled.wait(10)

        moved[n] = tuple(write_folder(out, fill, replace=True) or ())

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    asides = sorted(p for n in moved for p in moved[n])
    assert len(moved) == 3 and asides == sorted(tmp_path.glob("out.replaced-*"))
    kept = {(p / "who.txt").read_text() for p in asides} | {(out / "who.txt").read_text()}
    assert kept == {"0", "1", "2", "3"} and len(asides) == 3


def test_two_processes_racing_for_one_folder(awkward_plan):
    """Two `planner export` processes to one --out, writing at the same time: one writes it, the
    other exits 2 (before: both said they wrote it, one export moved aside)."""
    command = [sys.executable, "-m", "planner.cli", "export", "plan", "--by", "dept", "--out", "same"]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.Popen(command, cwd=awkward_plan, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = sorted((run.communicate(timeout=120)[1], run.returncode)[::-1] for run in runs)
    assert [code for code, _ in results] == [0, 2], results
    assert "already exists" in results[1][1] and "Traceback" not in results[1][1]
    assert [p.name for p in awkward_plan.iterdir() if p.name.startswith(("same", ".same"))] == ["same"]


def test_a_ctrl_c_the_moment_the_hidden_folder_exists_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C lands just after the hidden temporary folder is made, before anything is written in
    it: the folder is removed, and nothing is under the final name (before: a folder made by
    mkdtemp was not yet the writer's to remove, and a loaded machine left it behind)."""
    real_mkdir = os.mkdir

    def mkdir_then_ctrl_c(path, *args, **kwargs):
        real_mkdir(path, *args, **kwargs)
        if str(path).endswith(".partial"):
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "mkdir", mkdir_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        write_folder(tmp_path / "plan", lambda folder: (folder / "a.txt").write_text("x"))
    assert list(tmp_path.iterdir()) == []
