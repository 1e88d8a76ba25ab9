"""report.html: one self-contained page for officials — KPIs, route map, visit calendar, workload.

The page works offline, as government intranets require: plotly.js (from the installed plotly
package, about 4.8 MB) is inlined once, every figure's data is in the file, and nothing is
loaded from the network. There is no base map: the map draws enterprises, enforcement stations
and crew routes on longitude/latitude axes at true scale, so it renders without tiles.

Sections: KPI cards (visits against the departments-alone baseline and the lower bound, 综合查一次
rate, joint random rate, disturbances saved, unscheduled tasks by reason category); a map of one
chosen week or day (default: the busiest week); a calendar heat map of visits per day; and the
departments' workload per month (inspector-days or hours). Labels are in Chinese, or in English
with ``lang="en"`` (the catalogue's ``report.*`` messages); names stay as they are.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative
from plotly.offline import get_plotlyjs

from planner.messages import DEFAULT_LANG, LANGUAGE_TAGS, text
from planner.rules import reason_codes, reason_label
from planner.rules.tasks import MANDATORY_KINDS

if TYPE_CHECKING:
    from planner.agenda import Agenda

DEFAULT_TITLE = text("report.title")
# Windows, macOS, then Linux (Noto / Source Han, WenQuanYi) Chinese fonts; the page embeds none
FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", sans-serif'


def weekdays(lang: str = DEFAULT_LANG) -> tuple[str, ...]:
    """Monday … Sunday, short, in ``lang``."""
    return tuple(text(f"report.weekday.{d}", lang) for d in range(1, 8))


MAX_UNSCHEDULED_ROWS = 500  # the detail table; the category counts always cover every task
COORD_DECIMALS = 5  # about 1 m: enough for a county map, and a third shorter in the file than full floats
# What the map's traces 1–3 (routes, single-department visits, joint visits) show of one day
DAY_LAYERS = (
    "route_lon",
    "route_lat",
    "single_lon",
    "single_lat",
    "single_text",
    "joint_lon",
    "joint_lat",
    "joint_text",
)


@dataclass(frozen=True)
class Period:
    """One entry of the map's selector: a week or a day with visits."""

    key: str  # "w2026-03" (ISO week) or "d2026-01-12"
    title: str  # in the report's language: "2026年第3周（1月12日–1月18日）" or "2026-01-12 周一"
    days: tuple[str, ...]  # ISO dates with visits
    visits: int
    lang: str = DEFAULT_LANG  # the language of ``label``

    @property
    def label(self) -> str:
        """What the selector shows."""
        return text("report.period.label", self.lang).format(title=self.title, visits=self.visits)


def unscheduled_by_category(unscheduled: pd.DataFrame, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """Unscheduled tasks per reason category: category, tasks, mandatory (counts), most tasks first.

    ``unscheduled`` needs task_id and reason, and a ``mandatory`` or ``kind`` column.
    """
    frame = _with_mandatory(unscheduled)
    counts = (
        frame.assign(category=reason_codes(frame).map(lambda code: reason_label(code, lang)))
        .groupby("category")
        .agg(tasks=("task_id", "size"), mandatory=("mandatory", "sum"))
        .reset_index()
        .astype({"tasks": int, "mandatory": int})
    )
    return counts.sort_values(["tasks", "category"], ascending=[False, True], ignore_index=True)


def workload_by_month(crews: pd.DataFrame) -> pd.DataFrame:
    """Inspector-days and hours per department and month: dept_id, month ("2026-01"), inspector_days, hours.

    A member counts for his or her own department (crews.dept_id), delegated checks included;
    hours are the crew-day from leaving the station to returning, (day_end_min − day_start_min) / 60.
    """
    if crews.empty:
        return pd.DataFrame({"dept_id": [], "month": [], "inspector_days": [], "hours": []})
    frame = crews.assign(
        month=_dates(crews["date"]).dt.strftime("%Y-%m"), hours=(crews["day_end_min"] - crews["day_start_min"]) / 60
    )
    days = frame.drop_duplicates(["inspector_id", "date"]).groupby(["dept_id", "month"]).size()
    hours = frame.groupby(["dept_id", "month"])["hours"].sum()
    out = pd.DataFrame({"inspector_days": days, "hours": hours.round(1)}).reset_index()
    return out.astype({"inspector_days": int})


def busiest_week(periods: list[Period]) -> Period | None:
    """The week with most visits (the earliest of equals); None without visits."""
    weeks = [p for p in periods if p.key.startswith("w")]
    return max(weeks, key=lambda p: p.visits, default=None)  # max keeps the first of equals: weeks are in order


@dataclass(frozen=True)
class RouteMap:
    """The route map: its figure (showing the default period), the selector's periods, each day's layers."""

    figure: go.Figure
    periods: list[Period]  # weeks, then days
    default: Period | None  # the busiest week
    days: dict[str, list[list]]  # ISO date → one list per DAY_LAYERS name, what traces 1–3 show that day


def map_figure(
    visits: pd.DataFrame,
    routes: pd.DataFrame,
    crews: pd.DataFrame,
    enterprises: pd.DataFrame,
    townships: pd.DataFrame,
    departments: pd.DataFrame,
    lang: str = DEFAULT_LANG,
) -> RouteMap:
    """The route map of every enterprise, the stations, and the crews' routes of one week or day.

    Traces: 0 enterprises (grey), 1 crew routes (station → visits → station), 2 single-department
    visits, 3 joint visits (two or more departments), 4 enforcement stations (on top, labelled).
    Traces 1–3 show the busiest week; the page's selector replaces them with the concatenated
    layers of the chosen period's days, so each day's data is in the file once.
    """
    stops = _route_stops(visits, routes, enterprises, departments, lang)
    crew_days = _crew_day_lines(stops, crews, townships)
    days = {day: _day_layers(rows, crew_days.get(day, [])) for day, rows in stops.groupby("date_iso", sort=True)}
    periods = _periods(sorted(days), {day: len(layers[2]) + len(layers[5]) for day, layers in days.items()}, lang)
    default = busiest_week(periods)
    shown = period_layers(days, default.days if default else ())
    figure = go.Figure(
        [
            go.Scatter(
                x=enterprises["lon"].round(COORD_DECIMALS),
                y=enterprises["lat"].round(COORD_DECIMALS),
                mode="markers",
                name=text("report.objects", lang),
                marker={"size": 4, "color": "rgba(150, 150, 150, 0.45)"},
                text=_escaped(enterprises["name"]) + "<br>" + _escaped(enterprises["township"]),
                hovertemplate="%{text}<extra></extra>",
            ),
            go.Scatter(
                x=shown[0],
                y=shown[1],
                mode="lines",
                name=text("report.map.routes", lang),
                hoverinfo="skip",
                line={"color": "rgba(31, 92, 153, 0.55)", "width": 1.6},
            ),
            _visit_trace(shown[2], shown[3], shown[4], text("report.map.single", lang), "#2c7fb8", 7),
            _visit_trace(shown[5], shown[6], shown[7], text("report.map.joint", lang), "#e6550d", 10),
            go.Scatter(
                x=townships["lon"],
                y=townships["lat"],
                mode="markers+text",
                name=text("report.map.stations", lang),
                text=_escaped(townships["township"]),
                textposition="top center",
                textfont={"size": 12, "color": "#111111", "shadow": "0 0 3px white", "weight": "bold"},
                marker={"size": 11, "symbol": "square", "color": "#252525", "line": {"width": 1, "color": "white"}},
                hovertemplate=f"%{{text}} {text('report.map.station', lang)}<extra></extra>",
            ),
        ]
    )
    lon = pd.concat([enterprises["lon"], townships["lon"]])
    lat = pd.concat([enterprises["lat"], townships["lat"]])
    figure.update_layout(
        height=760,
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        hovermode="closest",
        legend={"orientation": "h", "y": 1.06, "x": 0},
        plot_bgcolor="#f5f7fa",
        xaxis={
            "title": {"text": text("report.axis.lon", lang)},
            "gridcolor": "#e3e7ec",
            "zeroline": False,
            "range": _padded(lon),
        },
        # one degree of longitude is cos(latitude) as long as one of latitude: true scale
        yaxis={
            "title": {"text": text("report.axis.lat", lang)},
            "gridcolor": "#e3e7ec",
            "zeroline": False,
            "range": _padded(lat),
            "scaleanchor": "x",
            "scaleratio": 1 / math.cos(math.radians(float(lat.mean()) if len(lat) else 30.0)),
        },
    )
    return RouteMap(figure, periods, default, days)


def period_layers(days: Mapping[str, list[list]], chosen: tuple[str, ...] | list[str]) -> list[list]:
    """The chosen days' layers concatenated (DAY_LAYERS order), as the page's selector does it."""
    layers: list[list] = [[] for _ in DAY_LAYERS]
    for day in chosen:
        for i, values in enumerate(days.get(day, [])):
            layers[i] += values
    return layers


def calendar_figure(visits: pd.DataFrame, lang: str = DEFAULT_LANG) -> go.Figure:
    """Calendar heat map: one cell per day (column = week, row = weekday), colour = visits that day.

    Days without any visit (weekends, holidays) stay blank.
    """
    dates = _dates(visits["date"])
    figure = go.Figure()
    if dates.empty:
        return _layout_calendar(figure)
    counts = dates.value_counts()
    first = dates.min().to_period("M").start_time
    last = dates.max().to_period("M").end_time.normalize()
    days = pd.date_range(first - pd.Timedelta(days=first.weekday()), last + pd.Timedelta(days=6 - last.weekday()))
    weeks = days[::7]
    names = weekdays(lang)
    unit = text("report.unit.visits", lang)
    z = [[None] * len(weeks) for _ in names]
    hover = [[""] * len(weeks) for _ in names]
    for i, day in enumerate(days):
        column, row = divmod(i, 7)
        hover[row][column] = f"{day:%Y-%m-%d} {names[row]}"
        if day in counts.index:
            z[row][column] = int(counts[day])
    figure.add_trace(
        go.Heatmap(
            x=weeks,
            y=list(names),
            z=z,
            text=hover,
            xgap=2,
            ygap=2,
            colorscale="YlOrRd",
            hoverongaps=False,
            colorbar={"title": {"text": unit}, "thickness": 12},
            hovertemplate=f"%{{text}}<br>%{{z}} {unit}<extra></extra>",
        )
    )
    return _layout_calendar(figure)


def workload_figure(crews: pd.DataFrame, departments: pd.DataFrame, lang: str = DEFAULT_LANG) -> go.Figure:
    """Stacked bars per month, one colour per department; buttons switch inspector-days ↔ hours."""
    table = workload_by_month(crews)
    names = dict(zip(departments["dept_id"], departments["name"]))
    days = table.pivot(index="dept_id", columns="month", values="inspector_days").fillna(0).astype(int)
    hours = table.pivot(index="dept_id", columns="month", values="hours").fillna(0.0)
    days = days.loc[days.sum(axis=1).sort_values(ascending=False, kind="stable").index]  # busiest at the bottom
    months = [str(m) for m in days.columns]
    colours = qualitative.Dark24 + qualitative.Light24
    days_title, hours_title = text("report.workload.days_title", lang), text("report.workload.hours_title", lang)
    colon = text("sep.colon", lang)
    figure = go.Figure()
    days_y, hours_y = [], []
    for i, dept in enumerate(days.index):
        days_y.append(days.loc[dept].tolist())
        hours_y.append(hours.loc[dept, days.columns].round(1).tolist())
        figure.add_trace(
            go.Bar(
                x=months,
                y=days_y[-1],
                name=html.escape(str(names.get(dept, dept))),
                marker_color=colours[i % len(colours)],
                hovertemplate=f"%{{fullData.name}}<br>%{{x}}{colon}%{{y}}<extra></extra>",
            )
        )
    buttons = [
        {
            "label": text("report.workload.days", lang),
            "method": "update",
            "args": [{"y": days_y}, {"yaxis.title.text": days_title}],
        },
        {
            "label": text("report.workload.hours", lang),
            "method": "update",
            "args": [{"y": hours_y}, {"yaxis.title.text": hours_title}],
        },
    ]
    figure.update_layout(
        barmode="stack",
        height=520,
        margin={"l": 70, "r": 20, "t": 60, "b": 50},
        xaxis={"title": {"text": text("report.axis.month", lang)}, "type": "category"},
        yaxis={"title": {"text": days_title}},
        legend={
            "title": {"text": text("report.workload.legend", lang)},
            "traceorder": "reversed",
        },  # as stacked: first at the bottom
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 0,
                "xanchor": "left",
                "y": 1.14,
                "yanchor": "top",
                "buttons": buttons,
                "showactive": True,
            }
        ],
    )
    return figure


def visits_figure(kpis: Mapping[str, Any], lang: str = DEFAULT_LANG) -> go.Figure:
    """Horizontal bars: visits if departments planned alone, this plan, and the lower bound."""
    labels = [text(m, lang) for m in ("report.visits.baseline", "report.visits.plan", "report.visits.bound")]
    colon, unit = text("sep.colon", lang), text("report.unit.visits", lang)
    values = [kpis.get("baseline_visits"), kpis.get("visits"), kpis.get("lower_bound_visits")]
    shown = [(label, value) for label, value in zip(labels, values) if value is not None]
    figure = go.Figure(
        go.Bar(
            x=[v for _, v in shown],
            y=[label for label, _ in shown],
            orientation="h",
            marker_color=["#9e9e9e", "#e6550d", "#2c7fb8"][: len(shown)],
            text=[f"{v:,}" for _, v in shown],
            textposition="auto",
            hovertemplate=f"%{{y}}{colon}%{{x:,}} {unit}<extra></extra>",
        )
    )
    figure.update_layout(
        height=220,
        margin={"l": 160, "r": 20, "t": 10, "b": 40},
        xaxis={"title": {"text": text("kpi.visits", lang)}},
        yaxis={"autorange": "reversed"},
    )
    return figure


def render_report(
    *,
    kpis: Mapping[str, Any],
    visits: pd.DataFrame,
    routes: pd.DataFrame,
    crews: pd.DataFrame,
    unscheduled: pd.DataFrame,
    enterprises: pd.DataFrame,
    townships: pd.DataFrame,
    departments: pd.DataFrame,
    tasks: pd.DataFrame | None = None,
    title: str | None = None,
    alerts: pd.DataFrame | None = None,
    lang: str = DEFAULT_LANG,
    agenda: Agenda | None = None,
) -> str:
    """The report as one HTML string (UTF-8 text, every script inline); arguments as for ``write_report``."""
    missing = [c for c in ("kind", "dept_id", "uscc") if c not in unscheduled.columns]
    if tasks is not None and missing:
        unscheduled = unscheduled.merge(tasks[["task_id", *missing]], on="task_id", how="left")
    route_map = map_figure(visits, routes, crews, enterprises, townships, departments, lang)
    dates = _dates(visits["date"])
    span = (
        text("report.span", lang).format(start=f"{dates.min():%Y-%m-%d}", end=f"{dates.max():%Y-%m-%d}")
        if len(dates)
        else text("report.span.none", lang)
    )

    def said(message_id: str) -> str:
        return html.escape(text(message_id, lang), quote=False)

    return _PAGE.substitute(
        lang=LANGUAGE_TAGS[lang],
        title=html.escape(text("report.title", lang) if title is None else title),
        font=FONT,
        plotly_js=get_plotlyjs(),
        header=html.escape(text("report.header", lang).format(span=span), quote=False),
        cards=_cards(kpis, lang),
        visits_chart=_figure_html(visits_figure(kpis, lang), "chart-visits", modebar=False),
        unscheduled=_unscheduled_html(unscheduled, enterprises, departments, lang),
        alerts=("" if alerts is None else _alerts_html(alerts, enterprises, departments, lang))
        + ("" if agenda is None else _agenda_html(agenda)),
        options=_options(route_map.periods, route_map.default, lang),
        period_note=html.escape(_period_note(route_map.default, lang)),
        map=_figure_html(route_map.figure, "chart-map"),
        map_days=_script_json(route_map.days),
        calendar=_figure_html(calendar_figure(visits, lang), "chart-calendar"),
        workload=_figure_html(workload_figure(crews, departments, lang), "chart-workload"),
        **{key.removeprefix("report.").replace(".", "_"): said(key) for key in PAGE_WORDS},
    )


def write_report(
    path: Path | str,
    *,
    kpis: Mapping[str, Any],
    visits: pd.DataFrame,
    routes: pd.DataFrame,
    crews: pd.DataFrame,
    unscheduled: pd.DataFrame,
    enterprises: pd.DataFrame,
    townships: pd.DataFrame,
    departments: pd.DataFrame,
    tasks: pd.DataFrame | None = None,
    title: str | None = None,
    alerts: pd.DataFrame | None = None,
    lang: str = DEFAULT_LANG,
    agenda: Agenda | None = None,
) -> Path:
    """Write report.html (one self-contained, offline file, a few MB) and return its path.

    ``kpis`` is kpis.json as a dict; visits, routes, crews and unscheduled are the plan folder's
    tables (contract columns; unscheduled also needs ``mandatory`` or ``kind``, else pass
    ``tasks`` to supply kind, dept_id and uscc); enterprises (uscc, name, township, lat, lon),
    townships (township, lat, lon) and departments (dept_id, name) are the dataset's tables.
    ``title`` heads the page, e.g. the scenario's name (by default the catalogue's
    ``report.title``); ``lang`` is the language of every word but the names (Chinese by
    default). Written to a temporary file beside
    ``path`` and renamed, so a half-written report is never seen.
    """
    path = Path(path)
    page = render_report(
        kpis=kpis,
        visits=visits,
        routes=routes,
        crews=crews,
        unscheduled=unscheduled,
        enterprises=enterprises,
        townships=townships,
        departments=departments,
        tasks=tasks,
        title=title,
        alerts=alerts,
        lang=lang,
        agenda=agenda,
    )
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, path)
    return path


# ---- the pieces -------------------------------------------------------------------------------


def _dates(column: pd.Series) -> pd.Series:
    """Dates (datetime.date, Timestamp or ISO text) as normalised Timestamps."""
    return pd.to_datetime(pd.Series(column, dtype=object), errors="raise").dt.normalize()


def _escaped(values: pd.Series) -> pd.Series:
    """Names as chart text: plotly reads tags in text and legends (``<a href=…>`` would become a live
    link), so every name is HTML-escaped; plotly shows the entities as the characters they stand for."""
    return values.astype(str).map(html.escape)


def _with_mandatory(unscheduled: pd.DataFrame) -> pd.DataFrame:
    if "mandatory" in unscheduled.columns:
        return unscheduled.assign(mandatory=unscheduled["mandatory"].fillna(False).astype(bool))
    kind = unscheduled["kind"] if "kind" in unscheduled.columns else pd.Series("", index=unscheduled.index)
    return unscheduled.assign(mandatory=kind.isin(MANDATORY_KINDS))


def _clock(minutes: pd.Series) -> pd.Series:
    """Minutes since midnight as "HH:MM"."""
    minutes = minutes.astype(int)
    return (minutes // 60).map("{:02d}".format) + ":" + (minutes % 60).map("{:02d}".format)


def _route_stops(visits, routes, enterprises, departments, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """One row per visit in route order: date_iso, crew_id, seq, lon, lat, n_depts and hover text."""
    columns = ["date_iso", "crew_id", "seq", "lon", "lat", "n_depts", "hover"]
    if visits.empty:
        return pd.DataFrame({c: [] for c in columns})
    names = dict(zip(departments["dept_id"], departments["name"]))
    stops = routes[["visit_id", "seq"]].merge(visits, on="visit_id", how="right")
    stops = stops.merge(enterprises[["uscc", "name", "lon", "lat"]], on="uscc", how="left")
    stops[["lon", "lat"]] = stops[["lon", "lat"]].round(COORD_DECIMALS)
    stops["date_iso"] = _dates(stops["date"]).dt.strftime("%Y-%m-%d")
    stops["seq"] = stops["seq"].fillna(0).astype(int)
    depts = stops["dept_ids"].map(lambda ids: [names.get(d, d) for d in ids])
    stops["n_depts"] = depts.map(len)
    stops["hover"] = (
        "<b>"
        + stops["name"].fillna(stops["uscc"]).astype(str).map(html.escape)
        + "</b><br>"
        + stops["date_iso"]
        + " "
        + _clock(stops["start_min"])
        + "–"
        + _clock(stops["end_min"])
        + "<br>"
        + depts.map(text("sep.list", lang).join).map(html.escape)
        + "<br>"
        + pd.Series(
            [
                text("report.map.stop", lang).format(crew=crew, seq=seq)
                for crew, seq in zip(_escaped(stops["crew_id"]), stops["seq"].astype(str))
            ],
            index=stops.index,
            dtype=object,
        )
    )
    return stops.sort_values(["date_iso", "crew_id", "seq"], ignore_index=True)[columns]


def _crew_day_lines(stops: pd.DataFrame, crews: pd.DataFrame, townships: pd.DataFrame) -> dict[str, list[tuple]]:
    """Per ISO date, each crew-day's route as (lons, lats): its station, its visits in order, the station."""
    lon, lat = townships["lon"].round(COORD_DECIMALS), townships["lat"].round(COORD_DECIMALS)
    station = dict(zip(townships["township"], zip(lon, lat)))
    home = {}
    if len(crews):
        days = crews.drop_duplicates(["crew_id", "date"])
        home = dict(zip(zip(days["crew_id"], _dates(days["date"]).dt.strftime("%Y-%m-%d")), days["township"]))
    lines: dict[str, list[tuple]] = {}
    for (day, crew_id), rows in stops.groupby(["date_iso", "crew_id"], sort=True):
        lon, lat = rows["lon"].tolist(), rows["lat"].tolist()
        start = station.get(home.get((crew_id, day)))
        if start is not None:  # a crew without a known station still shows its path between visits
            lon, lat = [start[0], *lon, start[0]], [start[1], *lat, start[1]]
        lines.setdefault(day, []).append((lon, lat))
    return lines


def _periods(days: list[str], visits_on: dict[str, int], lang: str = DEFAULT_LANG) -> list[Period]:
    """The selector's weeks (ISO weeks, Monday–Sunday), then its days, each with its visit count."""
    weeks: dict[str, list[str]] = {}
    for day in days:
        year, week, _ = pd.Timestamp(day).isocalendar()
        weeks.setdefault(f"w{year}-{week:02d}", []).append(day)
    out = []
    for key, members in weeks.items():
        monday = pd.Timestamp(members[0]) - pd.Timedelta(days=pd.Timestamp(members[0]).weekday())
        sunday = monday + pd.Timedelta(days=6)
        count = sum(visits_on[d] for d in members)
        title = text("report.period.week", lang).format(
            year=key[1:5], week=int(key[6:]), m1=monday.month, d1=monday.day, m2=sunday.month, d2=sunday.day
        )
        out.append(Period(key, title, tuple(members), count, lang))
    names = weekdays(lang)
    for day in days:
        stamp = pd.Timestamp(day)
        out.append(Period(f"d{day}", f"{day} {names[stamp.weekday()]}", (day,), visits_on[day], lang))
    return out


def _visit_trace(lon: list, lat: list, text: list, name: str, colour: str, size: int) -> go.Scatter:
    return go.Scatter(
        x=lon,
        y=lat,
        mode="markers",
        name=name,
        text=text,
        hovertemplate="%{text}<extra></extra>",
        marker={"size": size, "color": colour, "line": {"width": 1, "color": "white"}},
    )


def _day_layers(rows: pd.DataFrame, lines: list[tuple]) -> list[list]:
    """One day's map layers (DAY_LAYERS order): route polylines separated by None, then the visits."""
    route_x: list = []
    route_y: list = []
    for lon, lat in lines:
        route_x += [*lon, None]
        route_y += [*lat, None]
    joint = rows["n_depts"] >= 2
    single, both = rows[~joint], rows[joint]
    return [
        route_x,
        route_y,
        single["lon"].tolist(),
        single["lat"].tolist(),
        single["hover"].tolist(),
        both["lon"].tolist(),
        both["lat"].tolist(),
        both["hover"].tolist(),
    ]


def _padded(values: pd.Series) -> list[float] | None:
    """The axis range of ``values`` with 4 % room each side."""
    values = values.dropna()
    if values.empty:
        return None
    low, high = float(values.min()), float(values.max())
    room = max(high - low, 0.01) * 0.04
    return [low - room, high + room]


def _layout_calendar(figure: go.Figure) -> go.Figure:
    figure.update_layout(
        height=280,
        margin={"l": 50, "r": 20, "t": 10, "b": 40},
        plot_bgcolor="white",
        xaxis={"type": "date", "tickformat": "%Y-%m", "dtick": "M1", "showgrid": False},
        yaxis={"autorange": "reversed", "showgrid": False},
    )
    return figure


def _figure_html(figure: go.Figure, div_id: str, modebar: bool = True) -> str:
    """A figure's div and the script that draws it; plotly.js itself is inlined once in the page head.

    The JSON keeps Chinese as UTF-8 (plotly's own to_html writes \\uXXXX escapes, doubling the
    size of the map's hover texts) and escapes only "<". A fixed ``div_id`` keeps the page
    byte-identical for the same plan.
    """
    figure.update_layout(template="plotly_white", font={"family": FONT, "size": 13}, separators=".,")
    spec = json.loads(pio.to_json(figure, validate=False, engine="json"))
    config = {
        "displaylogo": False,
        "responsive": True,
        "displayModeBar": "hover" if modebar else False,
        "toImageButtonOptions": {"filename": div_id},
    }
    data, layout, config = (_script_json(x) for x in (spec["data"], spec["layout"], config))
    height = int(figure.layout.height or 450)
    return (
        f'<div id="{div_id}" class="plotly-graph-div" style="height:{height}px; width:100%;"></div>\n'
        f'<script>Plotly.newPlot("{div_id}", {data}, {layout}, {config});</script>'
    )


def _script_json(value: Any) -> str:
    """Compact JSON, safe inside <script>: every "<" escaped, so no text can close the script."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _number(value: Any) -> str:
    return "—" if value is None else f"{value:,}"


def _hours(value: Any) -> str:
    return "—" if value is None else f"{round(value):,}"


def _rate(value: Any) -> str:
    return "—" if value is None else f"{value:.1%}"


def _saved_joint_note(saved_joint: Any, lang: str = DEFAULT_LANG) -> str:
    """The other reading of disturbances saved: Σ over joint visits of (departments − 1)."""
    return "" if saved_joint is None else text("report.card.saved.joint", lang).format(n=f"{saved_joint:,}")


def _cards(kpis: Mapping[str, Any], lang: str = DEFAULT_LANG) -> str:
    """The KPI cards, as HTML."""

    def say(message_id: str, **fields: Any) -> str:
        return html.escape(text(message_id, lang).format(**fields), quote=False)

    visits, baseline, lower = kpis.get("visits"), kpis.get("baseline_visits"), kpis.get("lower_bound_visits")
    saved = kpis.get("disturbance_reduction")
    saved_share = (
        say("report.card.saved.share", share=f"{saved / baseline:.1%}") if saved is not None and baseline else ""
    )
    gap = say("report.card.visits.gap", n=f"{visits - lower:,}") if visits is not None and lower is not None else ""
    saved_joint = html.escape(_saved_joint_note(kpis.get("disturbance_saved_joint"), lang), quote=False)
    cards = [
        (
            say("kpi.visits"),
            _number(visits),
            f"{say('report.card.visits.note', baseline=_number(baseline), lower=_number(lower))}<br>{gap}",
        ),
        (say("kpi.disturbance_reduction"), _number(saved), "<br>".join(x for x in (saved_share, saved_joint) if x)),
        (
            say("kpi.joint_inspection_rate"),
            _rate(kpis.get("joint_inspection_rate")),
            say("report.card.joint.note")
            + "<br>"
            + say(
                "report.card.joint.more",
                task=_rate(kpis.get("joint_task_rate")),
                visit=_rate(kpis.get("joint_visit_rate")),
            ),
        ),
        (
            say("kpi.joint_random_rate_strict"),
            _rate(kpis.get("joint_random_rate_strict")),
            say("report.card.random.note")
            + "<br>"
            + say("report.card.random.more", rate=_rate(kpis.get("joint_random_rate"))),
        ),
        (
            say("report.card.scheduled"),
            _number(kpis.get("scheduled")),
            say("report.card.scheduled.note", n=_number(kpis.get("tasks"))),
        ),
        (
            say("report.card.unscheduled"),
            _number(kpis.get("unscheduled")),
            say("report.card.unscheduled.note", n=_number(kpis.get("unscheduled_mandatory"))),
        ),
        (
            say("kpi.inspector_hours"),
            _hours(kpis.get("inspector_hours")),
            say("report.card.hours.note", n=_hours(kpis.get("travel_hours"))),
        ),
    ]
    return "\n".join(
        f'<div class="card"><div class="label">{label}</div><div class="value">{value}</div>'
        f'<div class="note">{note}</div></div>'
        for label, value, note in cards
    )


def _unscheduled_html(
    unscheduled: pd.DataFrame, enterprises: pd.DataFrame, departments: pd.DataFrame, lang: str = DEFAULT_LANG
) -> str:
    """The category table and a collapsible list of unscheduled tasks (mandatory first), as HTML."""

    def say(message_id: str, **fields: Any) -> str:
        return html.escape(text(message_id, lang).format(**fields), quote=False)

    if unscheduled.empty:
        return f'<p class="ok">{say("report.unscheduled.none")}</p>'
    counts = unscheduled_by_category(unscheduled, lang)
    rows = "".join(
        f"<tr><td>{html.escape(r.category)}</td><td class=num>{r.tasks}</td><td class=num>{r.mandatory}</td></tr>"
        for r in counts.itertuples()
    )
    table = (
        f'<table class="grid"><thead><tr><th>{say("col.reason_category")}</th><th>{say("col.n_tasks")}</th>'
        f"<th>{say('report.unscheduled.of_mandatory')}</th></tr></thead>"
        f"<tbody>{rows}</tbody><tfoot><tr><td>{say('report.total')}</td><td class=num>{counts['tasks'].sum()}</td>"
        f"<td class=num>{counts['mandatory'].sum()}</td></tr></tfoot></table>"
    )
    detail = _with_mandatory(unscheduled)
    detail = (
        detail.assign(reason_code=reason_codes(detail))
        .sort_values(["mandatory", "task_id"], ascending=[False, True])
        .head(MAX_UNSCHEDULED_ROWS)
    )
    names = dict(zip(enterprises["uscc"], enterprises["name"]))
    dept_names = dict(zip(departments["dept_id"], departments["name"]))
    kinds = {k: text(f"kind.{k}", lang) for k in ("key", "triggered", "campaign", "followup", "random")}
    yes, no = say("word.yes"), say("word.no")

    def cell(row: pd.Series, column: str, lookup: Mapping | None = None) -> str:
        value = row.get(column)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return html.escape(str(lookup.get(value, value) if lookup else value))

    lines = "".join(
        f"<tr><td>{cell(r, 'task_id')}</td><td>{cell(r, 'dept_id', dept_names)}</td>"
        f"<td>{cell(r, 'uscc', names)}</td><td>{cell(r, 'kind', kinds)}</td>"
        f"<td>{yes if r['mandatory'] else no}</td><td>{html.escape(reason_label(r['reason_code'], lang))}</td>"
        f"<td>{cell(r, 'reason')}</td></tr>"
        for _, r in detail.iterrows()
    )
    more = ""
    if len(unscheduled) > MAX_UNSCHEDULED_ROWS:
        more = f"<p class=note>{say('report.unscheduled.more', n=MAX_UNSCHEDULED_ROWS, total=len(unscheduled))}</p>"
    headers = "".join(
        f"<th>{say(message_id)}</th>"
        for message_id in (
            "col.task_id",
            "col.department",
            "report.objects",
            "col.kind",
            "col.mandatory",
            "col.reason_category",
            "col.reason",
        )
    )
    return (
        f"{table}<details><summary>{say('report.unscheduled.detail', n=len(unscheduled))}</summary>{more}"
        f'<table class="grid detail"><thead><tr>{headers}</tr></thead><tbody>{lines}</tbody></table></details>'
    )


def _agenda_html(agenda: Agenda) -> str:
    """月会商议程 (``planner.agenda``): its three tables, each collapsible, as a section."""
    lang = agenda.lang

    def esc(value: Any) -> str:
        return html.escape(str(value), quote=False)

    parts = [f'<section id="agenda"><h2>{esc(text("agenda.title", lang))}</h2><p>{esc(agenda.dateline)}</p>']
    for n, (title, frame) in enumerate(agenda.sections):
        parts.append(f"<h3>{esc(title)}</h3>")
        if n == 1 and agenda.capacity_line:
            parts.append(f"<p class=note>{esc(agenda.capacity_line)}</p>")
        if not len(frame):
            parts.append(f'<p class="ok">{esc(text("agenda.none", lang))}</p>')
            continue
        shown = agenda.headed(frame.head(MAX_UNSCHEDULED_ROWS))
        headers = "".join(f"<th>{esc(h)}</th>" for h in shown.columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in shown.itertuples(index=False)
        )
        more = (
            f"<p class=note>{esc(text('agenda.more_rows', lang).format(n=len(frame) - MAX_UNSCHEDULED_ROWS))}</p>"
            if len(frame) > MAX_UNSCHEDULED_ROWS
            else ""
        )
        parts.append(
            f"<details><summary>{esc(text('report.agenda.rows', lang).format(n=len(frame)))}</summary>"
            f'<table class="grid detail"><thead><tr>{headers}</tr></thead><tbody>{rows}</tbody></table>{more}</details>'
        )
    parts.append("</section>\n")
    return "".join(parts)


def _alerts_html(
    alerts: pd.DataFrame, enterprises: pd.DataFrame, departments: pd.DataFrame, lang: str = DEFAULT_LANG
) -> str:
    """检查预警 (``planner.ledger.ledger_alerts``): counts per kind and a collapsible list, as a section."""
    from planner.ledger import alert_label, alerts_counts

    def say(message_id: str, **fields: Any) -> str:
        return html.escape(text(message_id, lang).format(**fields), quote=False)

    counts = alerts_counts(alerts)
    labels = {code: html.escape(alert_label(code, lang)) for code in counts}
    rows = "".join(f"<tr><td>{labels[code]}</td><td class=num>{n}</td></tr>" for code, n in counts.items())
    names = dict(zip(enterprises["uscc"], enterprises["name"]))
    dept_names = dict(zip(departments["dept_id"], departments["name"]))
    shown = alerts.head(MAX_UNSCHEDULED_ROWS)
    lines = "".join(
        f"<tr><td>{html.escape(str(names.get(u, u)))}</td><td>{html.escape(str(u))}</td><td>{y}</td>"
        f"<td>{labels[a]}</td>"
        f"<td>{'' if d is None or pd.isna(d) else html.escape(str(dept_names.get(d, d)))}</td>"
        f"<td>{html.escape(str(m))}</td></tr>"
        for u, y, a, d, m in zip(shown["uscc"], shown["year"], shown["alert"], shown["dept_id"], shown["message"])
    )
    more = (
        f"<p class=note>{say('report.alerts.more', n=MAX_UNSCHEDULED_ROWS, total=len(alerts), sheet=text('sheet.alerts', lang))}</p>"
        if len(alerts) > MAX_UNSCHEDULED_ROWS
        else ""
    )
    headers = "".join(
        f"<th>{say(message_id)}</th>"
        for message_id in ("report.alerts.firm", "col.uscc", "col.year", "col.alert", "col.department", "col.note")
    )
    detail = (
        f"<details><summary>{say('report.alerts.detail', n=len(alerts))}</summary>{more}"
        f'<table class="grid detail"><thead><tr>{headers}</tr></thead><tbody>{lines}</tbody></table></details>'
        if len(alerts)
        else f'<p class="ok">{say("report.alerts.none")}</p>'
    )
    return (
        f'<section id="alerts"><h2>{say("report.alerts.title")}</h2>'
        f'<table class="grid"><thead><tr><th>{say("col.alert")}</th><th>{say("report.alerts.count")}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        f"{detail}<p class=note>{say('report.alerts.note')}</p></section>\n"
    )


def _options(periods: list[Period], default: Period | None, lang: str = DEFAULT_LANG) -> str:
    """The selector's <option>s: weeks, then days; the default one selected."""
    groups = []
    for message_id, prefix in (("report.by_week", "w"), ("report.by_day", "d")):
        options = "".join(
            f'<option value="{p.key}" data-days="{",".join(p.days)}" data-note="{html.escape(_period_note(p, lang))}"'
            f"{' selected' if default and p.key == default.key else ''}>{html.escape(p.label)}</option>"
            for p in periods
            if p.key.startswith(prefix)
        )
        groups.append(f'<optgroup label="{html.escape(text(message_id, lang))}">{options}</optgroup>')
    return "".join(groups)


def _period_note(period: Period | None, lang: str = DEFAULT_LANG) -> str:
    if period is None:
        return text("report.period.none", lang)
    return text("report.period.note", lang).format(title=period.title, visits=period.visits, days=len(period.days))


#: the page's fixed words: ``$h_kpis`` … in ``_PAGE`` says the catalogue's ``report.h.kpis`` …
PAGE_WORDS = (
    "report.h.kpis",
    "report.h.unscheduled",
    "report.h.map",
    "report.h.calendar",
    "report.h.workload",
    "report.map.choose",
    "report.map.note",
    "report.map.note2",
    "report.workload.note",
)


_PAGE = Template("""<!DOCTYPE html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
body { font-family: $font; margin: 0; background: #f0f2f5; color: #1f2d3d; }
header { background: #1f5c99; color: white; padding: 18px 32px; }
header h1 { margin: 0; font-size: 24px; }
header p { margin: 6px 0 0; opacity: 0.85; }
main { padding: 8px 32px 40px; max-width: 1400px; margin: 0 auto; }
section { background: white; border-radius: 6px; padding: 16px 20px; margin: 16px 0;
          box-shadow: 0 1px 3px rgba(0,0,0,0.08); }
h2 { font-size: 18px; margin: 0 0 12px; border-left: 4px solid #1f5c99; padding-left: 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
.card { border: 1px solid #e1e6eb; border-radius: 6px; padding: 12px 14px; }
.card .label { font-size: 14px; color: #5a6b7d; }
.card .value { font-size: 28px; font-weight: bold; margin: 4px 0; color: #1f5c99; }
.card .note, p.note { font-size: 12px; color: #6b7b8c; }
table.grid { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
table.grid th, table.grid td { border: 1px solid #dde3e9; padding: 4px 10px; text-align: left; }
table.grid th { background: #f3f6f9; }
table.grid td.num { text-align: right; }
table.grid tfoot td { font-weight: bold; }
table.detail { font-size: 12px; }
details summary { cursor: pointer; color: #1f5c99; margin: 8px 0; }
.controls { margin-bottom: 6px; }
select { font-size: 14px; padding: 3px 6px; max-width: 100%; }
p.ok { color: #2e7d32; }
</style>
<script>$plotly_js</script>
</head>
<body>
<header><h1>$title</h1><p>$header</p></header>
<main>
<section id="kpis"><h2>$h_kpis</h2>
<div class="cards">
$cards
</div>
$visits_chart
</section>
<section id="unscheduled"><h2>$h_unscheduled</h2>
$unscheduled
</section>
$alerts<section id="map"><h2>$h_map</h2>
<div class="controls"><label for="period">$map_choose</label>
<select id="period">$options</select>
<span id="period-note" class="note">$period_note</span></div>
$map
<p class="note">$map_note
$map_note2</p>
</section>
<section id="calendar"><h2>$h_calendar</h2>
$calendar
</section>
<section id="workload"><h2>$h_workload</h2>
$workload
<p class="note">$workload_note</p>
</section>
</main>
<script>
(function () {
  // each day's map layers (planner.report.DAY_LAYERS); a week shows its days' layers concatenated
  var days = $map_days;
  var select = document.getElementById("period");
  var note = document.getElementById("period-note");
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    var layers = [[], [], [], [], [], [], [], []];
    option.getAttribute("data-days").split(",").forEach(function (day) {
      (days[day] || []).forEach(function (values, i) { layers[i] = layers[i].concat(values); });
    });
    Plotly.restyle("chart-map", {x: [layers[0], layers[2], layers[5]], y: [layers[1], layers[3], layers[6]],
                                 text: [[], layers[4], layers[7]]}, [1, 2, 3]);
    note.textContent = option.getAttribute("data-note");
  });
})();
</script>
</body>
</html>
""")
