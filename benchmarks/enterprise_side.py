"""The enterprise's side on the sample county (issue 20): appointments, off-site checks, the items
catalogue's checklists and notices, and the officials' overrides, all in one plan.

    python benchmarks/enterprise_side.py                   # about 10 minutes on 2 cores
    python benchmarks/enterprise_side.py --work /tmp/ent   # keep the folders

Steps, each a fresh ``planner`` process as a coordinator would run it:

1. ``planner demo-data --profile county --seed 2026 --appointments 100``: the sample county
   (byte for byte) with 100 generated appointments (预约);
2. a first plan, whose tasks choose the off-site items: the least frequent items (no complaint
   among their tasks) until they hold at least 10 % of the tasks (``[offsite] items``);
3. a set of satisfiable overrides taken from the first plan (pins to a planned date, pairs held in
   one visit, pairs kept apart, lead departments, dates excluded where a firm has no visit), and
   a set of contradicting ones (a Sunday, a date outside the window, an unknown task, a pair at
   two enterprises, a lead department that does not check);
4. the plan with the overrides and the off-site items: ``planner verify``, every override kept
   (``override_ids`` on the visits, the checker's rule ``override`` passes inside verify), every
   appointment in its window and never counted against a cap (the checker's rule), no off-site
   task in a visit, the KPIs; the contradicting set refused with exit 2 and each row named;
5. ``planner checklist`` for the whole year: no check point twice in a visit;
6. ``planner notices`` for one week: one .docx per visit, one converted by LibreOffice when
   ``soffice`` is installed.

Prints one line per step and a JSON summary; exits 1 when an expectation fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
WEEK = ("2026-03-02", "2026-03-06")


def planner(*args: str) -> tuple[int, float, str]:
    """``planner ARGS`` in a fresh process: exit code, seconds, what it printed."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "planner.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LANG": "en_US.UTF-8", "COLUMNS": "200"},
    )
    return done.returncode, time.perf_counter() - started, done.stdout + done.stderr


def scenario(folder: Path, name: str, offsite_items: list[str] = ()) -> Path:
    """The baseline scenario over the dataset in ``folder``/ds, with these off-site items."""
    text = (ROOT / "scenarios/baseline.toml").read_text(encoding="utf-8")
    text = text.replace('dataset = "../data/sample-county"', 'dataset = "ds"')
    if offsite_items:
        text += "\n[offsite]\nitems = " + json.dumps(list(offsite_items), ensure_ascii=False) + "\n"
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def offsite_items(tasks: pd.DataFrame, share: float = 0.10) -> list[str]:
    """The least frequent items (counting their tasks that may go off site: not complaints, which
    stay on site, nor appointments) until they hold ``share`` of the tasks."""
    movable = tasks[~tasks["kind"].isin(["triggered", "appointment"])]
    movable = movable[~movable["item"].isin(set(tasks.loc[tasks["kind"] == "appointment", "item"]))]
    counts = movable.groupby("item").size().sort_values(kind="stable")
    chosen, total = [], 0
    for item, n in counts.items():
        if total >= share * len(tasks):
            break
        chosen.append(item)
        total += int(n)
    return chosen


def overrides_from(plan: Path, offsite: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(satisfiable, contradicting) overrides drawn from a plan: what an official would write."""
    tasks = pd.read_parquet(plan / "tasks.parquet").set_index("task_id")
    visits = pd.read_parquet(plan / "visits.parquet").set_index("visit_id")
    links = pd.read_parquet(plan / "visit_tasks.parquet")
    links = links[~links["task_id"].map(tasks["item"]).isin(offsite)]
    links = links[links["task_id"].map(tasks["kind"]) != "appointment"]
    by_visit = links.groupby("visit_id")["task_id"].agg(sorted)
    rows, n = [], 0

    def add(action, task="", other="", uscc="", date="", dept="", note="会商决定"):
        nonlocal n
        n += 1
        rows.append([f"OK{n:03d}", action, task, other, uscc, date, dept, note])

    joint = [v for v, ids in by_visit.items() if len(ids) >= 2][:40]
    for visit_id in joint[:20]:  # held together on their planned date
        first, second = by_visit[visit_id][:2]
        add("together_with", first, second, note="会商：进一次门")
        add("pin_date", first, date=str(visits.at[visit_id, "date"])[:10], note="会商：按原定日期")
    for visit_id in joint[20:30]:  # a lead department among the visit's
        ids = by_visit[visit_id]
        add("lead_dept", ids[0], dept=tasks.at[ids[0], "dept_id"], note="会商：由该部门牵头")
    single = [ids[0] for ids in by_visit if len(ids) == 1]
    by_firm = {}
    for task_id in single:
        by_firm.setdefault(tasks.at[task_id, "uscc"], []).append(task_id)
    for ids in [i for i in by_firm.values() if len(i) >= 2][:10]:  # apart, as planned
        add("forbid_together", ids[0], ids[1], note="会商：分开进行")
    days = set(pd.to_datetime(visits["date"]).dt.date)
    firms = visits.groupby("uscc")["date"].agg(lambda d: set(pd.to_datetime(d).dt.date))
    for uscc, planned in list(firms.items())[:10]:  # a working day with no visit of the firm
        free = sorted(d for d in days if d not in planned)[5]
        add("exclude_date", uscc=uscc, date=free.isoformat(), note="企业停产检修")
    good = pd.DataFrame(
        rows, columns=["override_id", "action", "task_id", "other_task_id", "uscc", "date", "dept_id", "note"]
    )
    some = links.merge(tasks[["uscc", "window_start", "window_end"]], left_on="task_id", right_index=True)
    a, b = some.iloc[0], some[some["uscc"] != some.iloc[0]["uscc"]].iloc[0]
    other_dept = sorted(set(tasks["dept_id"]) - {a["dept_id"]})[0]
    after = (pd.Timestamp(a["window_end"]) + pd.Timedelta(days=3)).date().isoformat()
    bad = pd.DataFrame(
        [
            ["BAD1", "pin_date", a["task_id"], "", "", "2026-03-08", "", "周日"],
            ["BAD2", "pin_date", a["task_id"], "", "", after, "", "窗口之外"],
            ["BAD3", "pin_date", "NO-SUCH-TASK", "", "", "2026-03-03", "", "无此任务"],
            ["BAD4", "together_with", a["task_id"], b["task_id"], "", "", "", "两家企业"],
            ["BAD5", "lead_dept", a["task_id"], "", "", "", other_dept, "不参加的部门"],
        ],
        columns=good.columns,
    )
    return good, bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="keep the folders here (default: a temporary folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="enterprise-side-"))
    work.mkdir(parents=True, exist_ok=True)
    summary: dict = {"date": dt.date.today().isoformat()}
    failures: list[str] = []

    def expect(ok: bool, what: str) -> None:
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            failures.append(what)

    shutil.rmtree(work / "ds", ignore_errors=True)
    rc, s, out = planner(
        "demo-data", "--profile", "county", "--seed", "2026", "--appointments", "100", "--out", str(work / "ds")
    )
    expect(rc == 0, f"demo-data with 100 appointments ({s:.0f} s)")
    same = all(
        (work / "ds" / p.name).read_bytes() == p.read_bytes() for p in (ROOT / "data/sample-county").glob("*.parquet")
    )
    expect(same, "the dataset is the sample county's, byte for byte, plus appointments.parquet")

    rc, s, out = planner("plan", str(scenario(work, "first")), "--out", str(work / "first"), "--quiet", "--force")
    expect(rc == 0, f"first plan ({s:.0f} s)")
    tasks = pd.read_parquet(work / "first/tasks.parquet")
    items = offsite_items(tasks)
    summary["offsite_items"] = items
    good, bad = overrides_from(work / "first", set(items))
    good.to_csv(work / "ds/overrides.csv", index=False)
    rc, s, out = planner(
        "plan", str(scenario(work, "final", items)), "--out", str(work / "final"), "--quiet", "--force"
    )
    expect(rc == 0, f"plan with {len(good)} overrides and {len(items)} off-site items ({s:.0f} s)")
    if rc != 0:
        print(out[-3000:])
        return 1
    final = work / "final"
    kpis = json.loads((final / "kpis.json").read_text(encoding="utf-8"))
    rc, s, out = planner("verify", str(final))
    expect(rc == 0, f"planner verify, the re-plan included ({s:.0f} s)")
    tasks = pd.read_parquet(final / "tasks.parquet")
    visits = pd.read_parquet(final / "visits.parquet")
    links = pd.read_parquet(final / "visit_tasks.parquet")
    offsite = pd.read_parquet(final / "offsite.parquet")
    off_ids = set(tasks.loc[tasks["mode"] == "offsite", "task_id"])
    expect(not (set(links["task_id"]) & off_ids), f"no off-site task in a visit ({len(off_ids):,} off-site tasks)")
    summary["offsite"] = {
        "tasks": len(off_ids),
        "share_of_tasks": round(len(off_ids) / len(tasks), 4),
        "at_a_desk": len(offsite),
        "offsite_share": kpis.get("offsite_share"),
    }
    appointment = tasks[tasks["kind"] == "appointment"]
    placed = links[links["task_id"].isin(appointment["task_id"])].merge(visits[["visit_id", "date"]], on="visit_id")
    placed = placed.merge(appointment[["task_id", "window_start", "window_end"]], on="task_id")
    inside = (pd.to_datetime(placed["date"]) >= pd.to_datetime(placed["window_start"])) & (
        pd.to_datetime(placed["date"]) <= pd.to_datetime(placed["window_end"])
    )
    expect(
        bool(inside.all()),
        f"{kpis.get('appointments_kept')} of {kpis.get('appointments_total')} appointments kept, all in their windows",
    )
    summary["appointments"] = {
        k: kpis.get(k) for k in ("appointments_total", "appointments_kept", "checks_folded_into_appointments")
    }
    shaped = visits[visits["override_ids"].map(len) > 0]
    named = {o for ids in visits["override_ids"] for o in ids}
    firms = set(visits["uscc"])
    # an exclusion shapes the visits of its enterprise; one whose firm has no visit now shapes none
    should = {o.override_id for o in good.itertuples() if o.action != "exclude_date" or o.uscc in firms}
    when = pd.to_datetime(visits["date"]).dt.date.astype(str)
    kept_out = all(
        not ((visits["uscc"] == o.uscc) & (when == o.date)).any()
        for o in good.itertuples()
        if o.action == "exclude_date"
    )
    expect(
        should <= named and kept_out,
        f"every override kept (the checker's rule, in verify) and marking the visits it shaped: "
        f"{len(should)} of {len(good)} shape {len(shaped)} visits; no visit on an excluded date",
    )
    summary["overrides"] = {"satisfiable": len(good), "visits_shaped": int(len(shaped))}
    summary["plan"] = {
        k: kpis.get(k) for k in ("tasks", "scheduled", "visits", "unscheduled_mandatory", "capacity_bound_mandatory")
    }

    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "planner.cli", "checklist", str(final)], capture_output=True, text=True, cwd=ROOT
    )
    rc, s = done.returncode, time.perf_counter() - started
    sheet = pd.read_csv(io.StringIO(done.stdout), dtype=str) if rc == 0 else pd.DataFrame()
    # the checklist's headers are Chinese: 检查编号 (visit_id), 检查要点 (check_point)
    twice = int(sheet.duplicated(["检查编号", "检查要点"]).sum()) if len(sheet) else -1
    summary["visits_with_checklist"] = int(sheet["检查编号"].nunique()) if len(sheet) else 0
    summary["visits"] = len(visits)
    expect(
        rc == 0 and twice == 0,
        f"checklist of every visit: {len(sheet):,} lines, no check point twice in a visit ({s:.0f} s)",
    )
    summary["checklist_lines"] = len(sheet)

    shutil.rmtree(work / "notices", ignore_errors=True)
    rc, s, out = planner("notices", str(final), "--from", WEEK[0], "--to", WEEK[1], "--out", str(work / "notices"))
    week = visits[(pd.to_datetime(visits["date"]) >= WEEK[0]) & (pd.to_datetime(visits["date"]) <= WEEK[1])]
    docs = sorted((work / "notices").glob("**/*.docx"))
    expect(
        rc == 0 and len(docs) == len(week),
        f"notices {WEEK[0]}…{WEEK[1]}: {len(docs)} .docx for {len(week)} visits ({s:.0f} s)",
    )
    summary["notices"] = len(docs)
    if shutil.which("soffice") and docs:
        pdf = work / "pdf"
        done = subprocess.run(
            ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(pdf), str(docs[0])],
            capture_output=True,
            timeout=180,
        )
        expect(done.returncode == 0 and any(pdf.glob("*.pdf")), "LibreOffice opens a notice (converted to PDF)")

    bad.to_csv(work / "ds/overrides.csv", index=False)
    rc, s, out = planner("plan", str(scenario(work, "bad", items)), "--out", str(work / "bad"), "--quiet")
    said = " ".join(out.split())
    rows = [n for n in range(2, len(bad) + 2) if f"row {n}," in said]
    expect(
        rc == 2 and rows == list(range(2, len(bad) + 2)) and not (work / "bad").exists(),
        f"{len(bad)} contradicting overrides refused, exit {rc}, rows {rows}",
    )
    summary["refused_rows"] = rows
    good.to_csv(work / "ds/overrides.csv", index=False)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
