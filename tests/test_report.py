"""report.html: self-contained and offline, its figures faithful to the plan, and it renders in a browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile

import pandas as pd
import pytest

from planner.report import (
    busiest_week,
    calendar_figure,
    map_figure,
    period_layers,
    render_report,
    unscheduled_by_category,
    workload_by_month,
    write_report,
)
from planner.rules import OTHER, reason_codes, reason_label

TABLES = ("visits", "routes", "crews", "unscheduled", "tasks")
DATASET_TABLES = ("enterprises", "townships", "departments")


def report_inputs(plan, dataset) -> dict:
    """write_report's keyword arguments for a plan and its dataset."""
    return (
        {"kpis": plan.kpis}
        | {n: getattr(plan.tables, n) for n in TABLES}
        | {n: getattr(dataset, n) for n in DATASET_TABLES}
    )


@pytest.fixture(scope="module")
def county_report(county_baseline, tmp_path_factory):
    """(path of the sample county's report.html, its text, the write_report arguments)."""
    plan, dataset, scenario, _ = county_baseline
    inputs = report_inputs(plan, dataset)
    path = write_report(tmp_path_factory.mktemp("report") / "report.html", **inputs, title=scenario.name)
    return path, path.read_text(encoding="utf-8"), inputs


def tiny_inputs(name: str = "甲公司") -> dict:
    """A hand-made plan of one crew-day with two visits, one joint, and one unscheduled task."""
    return {
        "kpis": {
            "tasks": 4,
            "scheduled": 3,
            "unscheduled": 1,
            "unscheduled_mandatory": 1,
            "visits": 2,
            "baseline_visits": 3,
            "lower_bound_visits": 2,
            "disturbance_reduction": 1,
            "joint_visit_rate": 0.5,
            "joint_random_rate": 1.0,
            "inspector_hours": 10.0,
            "travel_hours": 1.0,
        },
        "visits": pd.DataFrame(
            {
                "visit_id": ["c1-1", "c1-2"],
                "visit_code": ["A", "B"],
                "uscc": ["U1", "U2"],
                "date": ["2026-03-02", "2026-03-02"],
                "crew_id": ["c1", "c1"],
                "start_min": [540, 660],
                "end_min": [600, 720],
                "dept_ids": [["SJ", "XF"], ["SJ"]],
                "n_tasks": [2, 1],
            }
        ),
        "routes": pd.DataFrame(
            {
                "crew_id": ["c1", "c1"],
                "date": ["2026-03-02"] * 2,
                "seq": [1, 2],
                "visit_id": ["c1-1", "c1-2"],
                "arrive_min": [540, 660],
                "depart_min": [600, 720],
                "travel_min": [30, 20],
            }
        ),
        "crews": pd.DataFrame(
            {
                "crew_id": ["c1", "c1"],
                "date": ["2026-03-02"] * 2,
                "township": ["城关街道"] * 2,
                "day_start_min": [510, 510],
                "day_end_min": [810, 810],
                "inspector_id": ["S1", "X1"],
                "dept_id": ["SJ", "XF"],
            }
        ),
        "unscheduled": pd.DataFrame(
            {
                "task_id": ["XF-9"],
                "kind": ["key"],
                "dept_id": ["XF"],
                "uscc": ["U2"],
                "reason": ["no official working day in its window 2026-02-15…2026-02-23 (holidays)"],
            }
        ),
        "enterprises": pd.DataFrame(
            {
                "uscc": ["U1", "U2"],
                "name": [name, "乙商店"],
                "township": ["城关街道"] * 2,
                "lat": [30.51, 30.52],
                "lon": [120.61, 120.62],
            }
        ),
        "townships": pd.DataFrame({"township": ["城关街道"], "lat": [30.50], "lon": [120.60]}),
        "departments": pd.DataFrame({"dept_id": ["SJ", "XF"], "name": ["示范县市场监督管理局", "示范县消防救援大队"]}),
    }


def test_report_is_one_offline_file(county_report):
    """No script, stylesheet or image is loaded from the network; plotly.js is inlined; a few MB."""
    path, page, _ = county_report
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page, flags=re.IGNORECASE)
    assert not [t for t in tags if re.search(r"\b(?:src|href)\s*=", t, flags=re.IGNORECASE)]
    assert '<script src="http' not in page and '<link href="http' not in page and "url(http" not in page
    assert "Plotly.newPlot" in page and page.count("Plotly.newPlot(") == 4
    assert len(page) > 4_000_000  # plotly.js itself is about 4.8 MB
    assert path.stat().st_size < 12_000_000


def test_kpi_cards_show_the_plan(county_report):
    """The cards show visits, baseline, lower bound, disturbances saved (both readings) and the joint
    rates, the headline 综合查一次实施率 being the official reading (per department-inspection)."""
    _, page, inputs = county_report
    kpis = inputs["kpis"]
    for key in ("visits", "baseline_visits", "lower_bound_visits", "disturbance_reduction", "disturbance_saved_joint"):
        assert f"{kpis[key]:,}" in page, key
    rate = f"{kpis['joint_inspection_rate']:.1%}"
    assert f'<div class="label">综合查一次实施率</div><div class="value">{rate}</div>' in page
    assert f"联合检查户次占比 {kpis['joint_visit_rate']:.1%}" in page
    assert f"{kpis['joint_random_rate_strict']:.1%}" in page and "跨部门联合“双随机”监管实施率" in page
    assert f"{kpis['joint_random_rate']:.1%}" in page


def test_every_unscheduled_reason_has_a_category(county_report):
    """The sample county's reasons all fall into named categories, and the counts add up to the KPIs."""
    _, page, inputs = county_report
    counts = unscheduled_by_category(inputs["unscheduled"])
    assert reason_label(OTHER) not in set(counts["category"])
    assert counts["tasks"].sum() == inputs["kpis"]["unscheduled"]
    assert counts["mandatory"].sum() == inputs["kpis"]["unscheduled_mandatory"]
    assert all(category in page for category in counts["category"])


def test_reason_categories():
    """A reason's category is its code's label; an older plan's English sentence (no reason_code
    column) still finds its code; an unknown one is "其他"."""
    legacy = pd.DataFrame(
        {
            "task_id": list("abcde"),
            "reason": [
                "outside the horizon: its window 2025-01-01…2025-02-01 does not meet",
                "SJ may make 2 capped visits a year to this enterprise; …",
                "合规正面清单一年最多查一次: the positive-list cap …",
                "XF has no certified inspector (执法证) on the roster",
                "something new",
            ],
        }
    )
    labels = reason_codes(legacy).map(reason_label).tolist()
    assert labels == ["超出计划期", "部门年度检查次数上限", "合规正面清单一年最多查一次", "无持证执法人员", "其他"]
    coded = legacy.assign(reason_code=["window", "cap_per_dept", "cap_positive_list", "certified", "no_such_rule"])
    assert reason_codes(coded).map(reason_label).tolist() == labels
    assert reason_label("certified", "en") == "no certified inspector"


def test_map_defaults_to_the_busiest_week(county_report):
    """The map first shows the week with most visits; every visit is in exactly one day's layers."""
    _, _, inputs = county_report
    route_map = map_figure(
        *(inputs[n] for n in ("visits", "routes", "crews", "enterprises", "townships", "departments"))
    )
    weeks = [p for p in route_map.periods if p.key.startswith("w")]
    assert route_map.default == busiest_week(route_map.periods)
    assert route_map.default.visits == max(p.visits for p in weeks)
    assert sum(p.visits for p in weeks) == len(inputs["visits"])
    shown = route_map.figure.data
    assert len(shown[2].x) + len(shown[3].x) == route_map.default.visits
    assert list(shown[1].x) == period_layers(route_map.days, route_map.default.days)[0]


def test_routes_start_and_end_at_the_station():
    """A crew-day's line runs station → visits in seq order → station; joint visits are apart."""
    inputs = tiny_inputs()
    route_map = map_figure(
        *(inputs[n] for n in ("visits", "routes", "crews", "enterprises", "townships", "departments"))
    )
    layers = route_map.days["2026-03-02"]
    assert layers[0] == [120.6, 120.61, 120.62, 120.6, None]
    assert layers[1] == [30.5, 30.51, 30.52, 30.5, None]
    assert layers[5] == [120.61] and layers[2] == [120.62]  # U1 is the joint visit (SJ and XF)
    assert "示范县市场监督管理局、示范县消防救援大队" in layers[7][0]


def test_calendar_counts_every_visit(county_report):
    """The heat map's cells add up to the number of visits."""
    _, _, inputs = county_report
    cells = calendar_figure(inputs["visits"]).data[0].z
    assert sum(v for row in cells for v in row if v is not None) == len(inputs["visits"])


def test_workload_adds_up_to_the_kpis(county_report):
    """Hours per department and month add up to inspector_hours; days to the inspector-days of crews.parquet."""
    _, _, inputs = county_report
    crews = inputs["crews"]
    table = workload_by_month(crews)
    assert table["hours"].sum() == pytest.approx(inputs["kpis"]["inspector_hours"], abs=1.0)
    assert table["inspector_days"].sum() == len(crews.drop_duplicates(["inspector_id", "date"]))
    assert set(table["dept_id"]) <= set(inputs["departments"]["dept_id"])


def test_report_is_deterministic():
    """The same plan gives the same bytes."""
    assert render_report(**tiny_inputs()) == render_report(**tiny_inputs())


def test_names_cannot_break_the_page():
    """An enterprise name with markup stays text: it cannot close the script or inject one."""
    page = render_report(**tiny_inputs("</script><script>alert(1)</script>"), title="<b>县</b>")
    assert "alert(1)</script>" not in page and "<script>alert" not in page
    assert "<title>&lt;b&gt;县&lt;/b&gt;</title>" in page


def test_empty_plan_still_renders(tmp_path):
    """A plan without visits gives a page that says so, rather than failing."""
    inputs = tiny_inputs()
    inputs |= {n: inputs[n].iloc[:0] for n in ("visits", "routes", "crews", "unscheduled")}
    page = write_report(tmp_path / "report.html", **inputs).read_text(encoding="utf-8")
    assert "计划中没有检查" in page and "所有任务均已排入计划" in page


def test_unscheduled_kind_comes_from_tasks():
    """With unscheduled as the contract's bare (task_id, reason), tasks supply which are mandatory."""
    inputs = tiny_inputs()
    tasks = inputs["unscheduled"][["task_id", "kind", "dept_id", "uscc"]]
    inputs["unscheduled"] = inputs["unscheduled"][["task_id", "reason"]]
    page = render_report(**inputs, tasks=tasks)
    assert "<td>窗口内无工作日（节假日）</td><td class=num>1</td><td class=num>1</td>" in page


CHROMIUM = next(
    (
        shutil.which(n)
        for n in ("chromium", "chromium-browser", "google-chrome", "chromium-headless-shell")
        if shutil.which(n)
    ),
    None,
)


def chromium(*args: str) -> subprocess.CompletedProcess:
    """Headless Chromium, offline (every request goes to a dead proxy), with time for plotly to draw."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--proxy-server=http://127.0.0.1:9",
        "--virtual-time-budget=10000",
        *args,
    ]
    # Chromium keeps sockets under TMPDIR, and a socket path longer than ~107 bytes aborts it: a
    # clone in a deep folder (pytest's temp path under a long TMPDIR) gets a short one of its own
    with tempfile.TemporaryDirectory(dir="/tmp" if os.path.isdir("/tmp") else None) as short:
        env = os.environ | {"TMPDIR": short}
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True, env=env)


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on PATH (apt-get install chromium) to render the report")
def test_report_renders_in_chromium(county_report, tmp_path):
    """Chromium draws all four figures offline, the day selector redraws the map, and a screenshot is taken."""
    path, page, inputs = county_report
    route_map = map_figure(
        *(inputs[n] for n in ("visits", "routes", "crews", "enterprises", "townships", "departments"))
    )
    day = max((p for p in route_map.periods if p.key.startswith("d")), key=lambda p: p.visits)
    choose = (
        f'<script>window.addEventListener("load", function () {{ var s = document.getElementById("period");'
        f's.value = {json.dumps(day.key)}; s.dispatchEvent(new Event("change")); }});</script></body>'
    )
    chosen = tmp_path / "chosen.html"
    chosen.write_text(page.replace("</body>", choose), encoding="utf-8")
    dom = chromium("--dump-dom", chosen.as_uri()).stdout
    figures = {m.group(1): m.start() for m in re.finditer(r'id="(chart-[a-z]+)"', dom)}
    assert set(figures) == {"chart-visits", "chart-map", "chart-calendar", "chart-workload"}
    assert dom.count('class="main-svg"') >= 8  # each drawn figure has two main svg layers
    the_map = dom[figures["chart-map"] : figures["chart-calendar"]]
    points = len(inputs["enterprises"]) + len(inputs["townships"]) + day.visits
    assert the_map.count('class="point"') == points
    assert "户次" in dom[dom.index('id="period-note"') :][:200]
    screenshot = tmp_path / "report.png"
    chromium("--window-size=1400,3600", f"--screenshot={screenshot}", path.as_uri())
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 100_000


def test_an_english_report_says_every_word_in_english():
    """lang="en": headings, cards, tables, alerts, the selector and the charts' words are English;
    only the names (enterprises, townships, departments) stay Chinese. Chinese by default."""
    inputs = tiny_inputs()
    alerts = pd.DataFrame(
        {
            "uscc": ["U1"],
            "year": [2026],
            "alert": ["repeat"],
            "dept_id": [None],
            "dates": ["2026-03-02, 2026-03-05"],
            "message": ["2026-03-02, 2026-03-05: two visits 3 days apart (at most 7 days)"],
        }
    )
    page = render_report(**inputs, alerts=alerts, lang="en")
    assert '<html lang="en">' in page and "Key figures" in page and "repeat visit" in page
    shown = page[page.index("</head>") :]  # plotly.js, inlined in the head, aside
    for name in ("甲公司", "乙商店", "城关街道", *inputs["departments"]["name"]):
        shown = shown.replace(name, "")
    assert re.findall(r"[\u4e00-\u9fff]+", shown) == []
    chinese = render_report(**inputs, alerts=alerts)
    assert '<html lang="zh-CN">' in chinese and "关键指标" in chinese and "重复检查" in chinese
