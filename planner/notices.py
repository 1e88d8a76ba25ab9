"""检查通知书: one notice per visit for the enterprise, with the crew's merged checklist.

``write_notices`` reads a plan folder and its dataset and writes a new folder, atomically and
never over an existing one (``--force`` moves it aside):

- ``<date>-<visit code>.docx``, one per visit in the chosen dates: the enterprise (name, unified
  social credit code, address — its township where the dataset has no address), the date and the
  planned time on site, the departments and the lead department (牵头部门), the crew with each
  member's 执法证号, every item with its legal basis, the materials to prepare, the visit code
  (亮码检查), the how-manieth inspection of the enterprise this year it is, the enterprise's right
  to see the officers' certificates and to ask for 回避 — and, as an annex, the crew's merged
  checklist (一表通查, ``planner.checklist``). Chinese text is declared East Asian (宋体 for the
  body, 黑体 for the title) so that Word, WPS and LibreOffice render it with a Chinese font;
- ``notices.csv``: the index, one row per notice (file, visit, enterprise, date, departments,
  crew, SHA-256 of the file), UTF-8 with BOM and Chinese headers;
- ``checklist.csv``: every visit's checklist rows, for the crews' tablets or a spreadsheet;
- ``notices.json``: the source plan and the SHA-256 of its manifest, the dataset, the dates, the
  counts and the warnings.

The lead department is the visit's ``lead_dept_id`` where the plan records one, else the
department with the most on-site minutes in the visit (ties: the first of ``dept_ids``). The
year's count is the enterprise's distinct inspection dates in that calendar year — history
(before the plan) and the plan's visits — and this visit's place among them.

The same plan and dataset give the same bytes: every .docx has fixed document times and zip
entry times.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import pandas as pd

from planner.checklist import CHECKLIST_HEADERS, ChecklistRow, catalogue_index, checklist_frame, checklist_rows
from planner.dataset import Dataset, load_dataset
from planner.export import neutralise_csv_text, plan_names, read_plan_folder, recorded_dataset, slice_file_names
from planner.messages import msg
from planner.outputs import Moved, sha256_file, write_folder
from planner.problems import InputError, Problem

#: the document times of every notice (like plan.xlsx's): the same plan, the same bytes
FIXED_TIME = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)
BODY_FONT = "宋体"
TITLE_FONT = "黑体"
LATIN_FONT = "Times New Roman"
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")

#: 《中华人民共和国行政处罚法》(2021): 第四十二条 two certified officers, 第四十三条 回避,
#: 第五十五条 the certificate shown, and the right to refuse an officer who does not show it
CERTIFICATE_SENTENCE = (
    "执法人员不少于两人，检查时将主动出示执法证件；贵单位有权要求执法人员出示执法证件，"
    "执法人员不出示的，有权拒绝接受检查（《中华人民共和国行政处罚法》第四十二条、第五十五条）。"
)
AVOIDANCE_SENTENCE = (
    "贵单位认为检查人员与本单位有直接利害关系或者有其他关系可能影响公正执法的，有权申请回避"
    "（《中华人民共和国行政处罚法》第四十三条）；回避申请可在检查前向牵头部门提出，也可在检查开始时当场提出。"
)


@dataclass(frozen=True)
class CrewMember:
    """One officer of the visit's crew, as the notice names them."""

    inspector_id: str
    name: str
    department: str
    cert_no: str | None  # 执法证号; None where the roster has none (never assigned by a plan)


@dataclass(frozen=True)
class Notice:
    """What one visit's 检查通知书 says."""

    visit_id: str
    visit_code: str
    date: dt.date
    start_min: int
    end_min: int
    uscc: str
    enterprise: str
    address: str
    dept_ids: tuple[str, ...]
    departments: tuple[str, ...]  # names, in dept_ids order
    lead_dept_id: str
    lead: str  # the lead department's name
    crew: tuple[CrewMember, ...]
    items: tuple[tuple[str, str, str | None], ...]  # (department name, item, legal basis)
    materials: tuple[str, ...]
    inspection_no: int  # this visit is the enterprise's n-th inspection date of the year
    inspections_in_year: int  # history and the plan together
    checklist: tuple[ChecklistRow, ...]  # this visit's merged checklist (一表通查)


@dataclass(frozen=True)
class NoticesResult:
    """What ``write_notices`` wrote: the folder, the notices' files (relative) and warnings."""

    out: Path
    files: tuple[str, ...]
    warnings: tuple[str, ...]
    moved: Moved | None = None


def clock(minutes: int) -> str:
    """Minutes since midnight as HH:MM."""
    return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"


def chinese_date(day: dt.date) -> str:
    """2026年3月2日（星期一）."""
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def plan_notices(
    tables: dict[str, pd.DataFrame], dataset: Dataset, start: dt.date | None = None, end: dt.date | None = None
) -> list[Notice]:
    """The notice of every visit of the plan ``tables`` dated from ``start`` to ``end`` (inclusive;
    None: open), in date, start-time and visit order. ``dataset`` gives names, addresses,
    certificate numbers, history and the items catalogue."""
    visits = tables["visits"].copy()
    visits["date"] = pd.to_datetime(visits["date"]).dt.date
    visits = visits.sort_values(["date", "start_min", "visit_id"], kind="stable")
    visit_tasks = tables["visit_tasks"].astype({"visit_id": str, "task_id": str, "dept_id": str, "item": str})
    chosen = visits[[(start is None or d >= start) and (end is None or d <= end) for d in visits["date"]]]
    dept_name = _lookup(dataset.departments, "dept_id", "name")
    firms = dataset.enterprises
    firm_name, township = _lookup(firms, "uscc", "name"), _lookup(firms, "uscc", "township")
    address = _lookup(firms, "uscc", "address") if "address" in firms else {}
    person, certificate = (_lookup(dataset.inspectors, "inspector_id", c) for c in ("name", "cert_no"))
    catalogue = catalogue_index(dataset.items)
    checklist_of: dict[str, list[ChecklistRow]] = {}
    for row in checklist_rows(visit_tasks, dataset.items, dept_name, chosen["visit_id"].astype(str)):
        checklist_of.setdefault(row.visit_id, []).append(row)
    minutes = _dept_minutes(tables.get("tasks"), visit_tasks)
    tasks_of: dict[str, set[tuple[str, str]]] = {}
    for visit_id, dept, item in zip(visit_tasks["visit_id"], visit_tasks["dept_id"], visit_tasks["item"]):
        tasks_of.setdefault(visit_id, set()).add((dept, item))
    crews = tables["crews"]
    members_of: dict[tuple[str, dt.date], list[tuple[str, str]]] = {}
    for crew_id, day, inspector_id, own_dept in zip(
        crews["crew_id"].astype(str),
        pd.to_datetime(crews["date"]).dt.date,
        crews["inspector_id"].astype(str),
        crews["dept_id"].astype(str),
    ):
        members_of.setdefault((crew_id, day), []).append((inspector_id, own_dept))
    counts = _year_counts(visits, dataset.history)
    recorded_lead = (
        dict(zip(visits["visit_id"].astype(str), visits["lead_dept_id"])) if "lead_dept_id" in visits else {}
    )

    notices = []
    for visit in chosen.itertuples(index=False):
        visit_id, uscc = str(visit.visit_id), str(visit.uscc)
        dept_ids = tuple(str(d) for d in _listed(visit.dept_ids))
        lead = recorded_lead.get(visit_id)
        if not _text(lead):
            spent = minutes.get(visit_id, {})
            lead = max(dept_ids, key=lambda d: (spent.get(d, 0), -dept_ids.index(d))) if dept_ids else ""
        items = []
        materials: dict[str, None] = {}
        for dept, item in sorted(tasks_of.get(visit_id, ())):
            _, basis, stuff = catalogue.get((dept, item), ((), None, ()))
            items.append((dept_name.get(dept, dept), item, basis))
            materials.update(dict.fromkeys(stuff))
        crew = tuple(
            CrewMember(
                inspector_id,
                str(person.get(inspector_id) or inspector_id),
                dept_name.get(own_dept, own_dept),
                certificate.get(inspector_id) if _text(certificate.get(inspector_id)) else None,
            )
            for inspector_id, own_dept in members_of.get((str(visit.crew_id), visit.date), ())
        )
        where = address.get(uscc)
        number, total = counts[visit_id]
        notices.append(
            Notice(
                visit_id=visit_id,
                visit_code=str(visit.visit_code),
                date=visit.date,
                start_min=int(visit.start_min),
                end_min=int(visit.end_min),
                uscc=uscc,
                enterprise=str(firm_name.get(uscc) or uscc),
                address=str(where if _text(where) else township.get(uscc) or ""),
                dept_ids=dept_ids,
                departments=tuple(dept_name.get(d, d) for d in dept_ids),
                lead_dept_id=str(lead),
                lead=dept_name.get(lead, lead),
                crew=crew,
                items=tuple(items),
                materials=tuple(materials),
                inspection_no=number,
                inspections_in_year=total,
                checklist=tuple(checklist_of.get(visit_id, ())),
            )
        )
    return notices


def _lookup(frame: pd.DataFrame, key: str, value: str) -> dict[str, Any]:
    """{key: value} of a dataset table, the first row of each key; blanks as None."""
    frame = frame.drop_duplicates(key)
    values = frame[value].astype(object).where(frame[value].notna(), None)
    return dict(zip(frame[key].astype(str), values))


def _listed(value: Any) -> list:
    """A list cell of Parquet (a numpy array, a list) or a ';'-joined text, as a list."""
    if isinstance(value, str):
        return [v for v in re.split(r"[;；]", value) if v]
    if value is None:
        return []
    return list(value)


def _text(value: Any) -> bool:
    """A non-blank text."""
    return isinstance(value, str) and bool(value.strip())


def _dept_minutes(tasks: pd.DataFrame | None, visit_tasks: pd.DataFrame) -> dict[str, dict[str, int]]:
    """visit_id → dept_id → on-site minutes of that department's tasks in the visit."""
    if tasks is None or "duration_min" not in tasks:
        return {}
    duration = dict(zip(tasks["task_id"].astype(str), tasks["duration_min"]))
    spent: dict[str, dict[str, int]] = {}
    for visit_id, dept, task in zip(
        visit_tasks["visit_id"], visit_tasks["dept_id"].astype(str), visit_tasks["task_id"]
    ):
        per_dept = spent.setdefault(visit_id, {})
        per_dept[dept] = per_dept.get(dept, 0) + int(duration.get(task, 0) or 0)
    return spent


def _year_counts(visits: pd.DataFrame, history: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """visit_id → (its place among the enterprise's inspection dates of its year, how many there are).

    An inspection date is a distinct date on which any department inspected the enterprise:
    history's dates and the plan's visit dates; two visits on one date count once."""
    dates: dict[tuple[str, int], set[dt.date]] = {}
    for uscc, day in zip(history["uscc"].astype(str), pd.to_datetime(history["date"]).dt.date):
        dates.setdefault((uscc, day.year), set()).add(day)
    for uscc, day in zip(visits["uscc"].astype(str), visits["date"]):
        dates.setdefault((uscc, day.year), set()).add(day)
    ordered = {key: sorted(days) for key, days in dates.items()}
    counts = {}
    for visit_id, uscc, day in zip(visits["visit_id"].astype(str), visits["uscc"].astype(str), visits["date"]):
        days = ordered[(uscc, day.year)]
        counts[visit_id] = (days.index(day) + 1, len(days))
    return counts


# ----------------------------------------------------------------------------------------------
# The document
# ----------------------------------------------------------------------------------------------

#: characters XML 1.0 cannot hold (a control character in a business name would break the file)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: twentieths of a point per centimetre (Word's dxa)
DXA_PER_CM = 567
#: page and margins, cm (A4)
PAGE_CM, MARGIN_CM = (21.0, 29.7), 2.2


def _clean(text: Any) -> str:
    """Text for a document: what XML cannot hold removed, markup characters escaped."""
    return xml_escape(_NOT_XML.sub("", "" if text is None else str(text)))


@functools.cache
def _base_package() -> tuple[tuple[str, bytes], ...]:
    """The parts of an empty notice, made once with python-docx: styles whose body text is 宋体 for
    East Asian characters (w:eastAsia) and Times New Roman for Latin, zh-CN, A4 with 2.2 cm margins,
    fixed document properties. Each notice is this package with its own word/document.xml."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(11)
    properties = normal.element.get_or_add_rPr()
    properties.get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    language = properties.makeelement(qn("w:lang"), {qn("w:val"): "zh-CN", qn("w:eastAsia"): "zh-CN"})
    properties.append(language)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Cm(MARGIN_CM)
    core = document.core_properties
    core.title = "检查通知书"
    core.author = core.last_modified_by = "planner"
    core.created = core.modified = FIXED_TIME.replace(tzinfo=None)
    core.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    package = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    return tuple((entry.filename, package.read(entry.filename)) for entry in package.infolist())


def _blank(value: Any) -> bool:
    """None, NaN or empty text: an empty cell."""
    return value is None or (isinstance(value, float) and value != value) or value == ""


def _run(text: str, *, bold: bool = False, size_pt: float | None = None, font: str | None = None) -> str:
    """One run of text (w:r); ``font``: the East Asian font for it (the body's otherwise)."""
    properties = ""
    if font:
        properties += f'<w:rFonts w:ascii="{LATIN_FONT}" w:hAnsi="{LATIN_FONT}" w:eastAsia="{font}"/>'
    if bold:
        properties += "<w:b/><w:bCs/>"
    if size_pt:
        properties += f'<w:sz w:val="{round(size_pt * 2)}"/><w:szCs w:val="{round(size_pt * 2)}"/>'
    properties = f"<w:rPr>{properties}</w:rPr>" if properties else ""
    return f'<w:r>{properties}<w:t xml:space="preserve">{_clean(text)}</w:t></w:r>'


def _paragraph(text: str = "", *, align: str | None = None, before_pt: float | None = None, **run) -> str:
    """A paragraph (w:p) of one run; ``align``: left, center or right."""
    properties = ""
    if before_pt:
        properties += f'<w:spacing w:before="{round(before_pt * 20)}"/>'
    if align:
        properties += f'<w:jc w:val="{align}"/>'
    properties = f"<w:pPr>{properties}</w:pPr>" if properties else ""
    return f"<w:p>{properties}{_run(text, **run) if text else ''}</w:p>"


def _heading(text: str) -> str:
    return _paragraph(text, bold=True, font=TITLE_FONT, before_pt=8)


def _table(
    header: Sequence[str] | None, rows: Sequence[Sequence[Any]], widths_cm: Sequence[float], size_pt=None
) -> str:
    """A bordered table (the template's Table Grid style), fixed column widths; ``header`` bold."""
    widths = [round(w * DXA_PER_CM) for w in widths_cm]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    lines = [(header, True)] if header else []
    lines += [(row, False) for row in rows]
    body = "".join(
        "<w:tr>"
        + "".join(
            f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>'
            f"<w:p>{'' if _blank(value) else _run(value, bold=bold, size_pt=size_pt)}</w:p></w:tc>"
            for value, w in zip(values, widths)
        )
        + "</w:tr>"
        for values, bold in lines
    )
    properties = (
        '<w:tblPr><w:tblStyle w:val="TableGrid"/>'
        f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
        'w:noHBand="0" w:noVBand="1"/></w:tblPr>'
    )
    return f"<w:tbl>{properties}<w:tblGrid>{grid}</w:tblGrid>{body}</w:tbl>"


def notice_body(notice: Notice) -> str:
    """The notice's WordprocessingML body (the paragraphs and tables of word/document.xml)."""
    joint = len(notice.dept_ids) > 1
    when = f"{chinese_date(notice.date)} {clock(notice.start_min)}至{clock(notice.end_min)}"
    visit_words = "联合检查（综合查一次：进一次门、查多项事）" if joint else "检查"
    parts = [
        _paragraph("检查通知书", align="center", bold=True, size_pt=22, font=TITLE_FONT),
        _paragraph("（综合查一次 · 联合检查）" if joint else "（入企检查）", align="center", size_pt=12),
        _paragraph(f"检查码：{notice.visit_code}    检查编号：{notice.visit_id}", align="right", size_pt=10),
        _paragraph(f"{notice.enterprise}：", bold=True),
        _paragraph(
            f"根据检查计划，{'、'.join(notice.departments)}将于{when}对贵单位开展{visit_words}，"
            f"由{notice.lead}牵头。请贵单位安排熟悉情况的负责人在场配合，并提前备好下列材料。"
        ),
        _table(
            None,
            [
                ("被检查单位", notice.enterprise),
                ("统一社会信用代码", notice.uscc),
                ("地址", notice.address),
                ("检查时间", when),
                ("检查部门", "、".join(notice.departments)),
                ("牵头部门", notice.lead),
                ("检查码", f"{notice.visit_code}（亮码检查：凭此码可核验本次检查）"),
                (
                    "本年度检查次数",
                    f"本次为本年度对贵单位的第 {notice.inspection_no} 次入企检查；"
                    f"连同已实施的检查，本年度共安排 {notice.inspections_in_year} 次",
                ),
            ],
            (4, 12.6),
        ),
        _heading("一、检查事项及依据"),
        _table(
            ("序号", "检查部门", "检查事项", "检查依据"),
            [
                (i, dept, item, basis or "（未列入检查事项清单）")
                for i, (dept, item, basis) in enumerate(notice.items, 1)
            ],
            (1.2, 4.4, 5, 6),
        ),
        _heading("二、检查人员"),
        _table(
            ("序号", "姓名", "所属部门", "执法证号"),
            [(i, m.name, m.department, m.cert_no or "（未登记）") for i, m in enumerate(notice.crew, 1)],
            (1.2, 3, 7.4, 5),
        ),
        *[
            _paragraph(f"{'、'.join(delegated)}的检查事项由检查组中受其委托的执法人员一并检查（委托查）。")
            for delegated in [[d for d in notice.departments if d not in {m.department for m in notice.crew}]]
            if delegated and notice.crew
        ],
        _paragraph(CERTIFICATE_SENTENCE),
        _heading("三、请准备的材料"),
        *(
            [_paragraph(f"{i}. {material}") for i, material in enumerate(notice.materials, 1)]
            or [_paragraph("无需另行准备材料。")]
        ),
        _heading("四、申请回避的权利"),
        _paragraph(AVOIDANCE_SENTENCE),
        _paragraph(f"{notice.lead}（印章）", align="right", before_pt=12),
        _paragraph("年    月    日", align="right"),
        '<w:p><w:r><w:br w:type="page"/></w:r></w:p>',
        _heading("附：一表通查检查清单（检查组用）"),
        _paragraph(
            f"{notice.enterprise}　{chinese_date(notice.date)}　检查码 {notice.visit_code}。"
            "多个部门共同关注的检查要点只列一次，由检查组一并检查，各部门据此记录。"
        ),
        _table(
            ("序号", "检查要点", "涉及部门", "对应检查事项", "检查依据", "检查情况"),
            [(r.point_no, r.check_point, r.departments, r.items, r.legal_basis, "") for r in notice.checklist],
            (1.1, 3.4, 3.4, 3.4, 3.6, 1.7),
            size_pt=9,
        ),
        "<w:p/>",  # Word ends a body with a paragraph, never with a table
    ]
    return "".join(parts)


def notice_document(notice: Notice) -> bytes:
    """The notice as .docx bytes: the base package (``_base_package``) with the notice's body;
    every zip entry dated 1980-01-01, so the same notice always gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in _base_package():
            if name == "word/document.xml":
                text = data.decode("utf-8")
                start = text.index("<w:body>") + len("<w:body>")
                section = text.index("<w:sectPr", start)
                data = (text[:start] + notice_body(notice) + text[section:]).encode("utf-8")
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, data, compresslevel=1)  # fast: thousands of notices a year
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------------
# The folder
# ----------------------------------------------------------------------------------------------

INDEX_FILE = "notices.csv"
CHECKLIST_FILE = "checklist.csv"
RECORD_FILE = "notices.json"


def load_plan_dataset(plan, dataset: Dataset | Path | str | None) -> tuple[Dataset, list[str]]:
    """The dataset of a plan folder read by ``read_plan_folder``: ``dataset`` (loaded, or a folder),
    else the one the plan recorded; and the warnings of ``plan_names`` (name files that changed)."""
    if dataset is None:
        dataset = recorded_dataset(plan)
        if dataset is None:
            plan_names(plan, None)  # raises the InputError that names the dataset recorded
    if not isinstance(dataset, Dataset):
        dataset = load_dataset(Path(dataset))
    warnings = [
        str(p) for p in dataset.warnings if p.file == str(dataset.files.get("items")) or "检查事项清单" in p.rule
    ]
    _, changed, _ = plan_names(plan, dataset)
    if not dataset.files.get("items"):
        changed.append(
            f"{dataset.root}: no items table (检查事项清单): the notices list each item without legal basis, "
            "materials or check points"
        )
    return dataset, changed + warnings


def _check_dates(start: dt.date | None, end: dt.date | None) -> None:
    """Refuse ``--to`` before ``--from`` (exit 2, nothing written)."""
    if start is not None and end is not None and end < start:
        problem = Problem(
            "--to", None, None, end.isoformat(), msg("input.option.to_before_from", option="--from", start=start)
        )
        raise InputError([problem])


def write_notices(
    plan_dir: Path | str,
    out: Path | str,
    dataset: Dataset | Path | str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    replace: bool = False,
) -> NoticesResult:
    """One 检查通知书 (.docx) per visit of the plan folder ``plan_dir`` dated ``start``…``end``,
    with notices.csv, checklist.csv and notices.json, written to the new folder ``out``.

    Raises ``InputError`` when the plan or the dataset cannot be read, the dates are reversed or
    no visit falls between them; ``OutputExistsError`` when ``out`` exists and not ``replace``.
    """
    _check_dates(start, end)
    plan = read_plan_folder(plan_dir)
    dataset, warnings = load_plan_dataset(plan, dataset)
    notices = plan_notices(plan.tables, dataset, start, end)
    if not notices:
        between = msg("input.plan.no_visit_between", start=start or "…", end=end or "…")
        raise InputError([Problem(str(plan.root / "visits.parquet"), None, None, None, between)])
    stems = slice_file_names([f"{n.date.isoformat()}-{n.visit_code}" for n in notices])
    files = [f"{stem}.docx" for stem in stems]

    def fill(folder: Path) -> None:
        index = []
        for notice, name in zip(notices, files):
            path = folder / name
            path.write_bytes(notice_document(notice))
            index.append(_index_row(notice, name, sha256_file(path)))
        _write_csv(pd.DataFrame(index), folder / INDEX_FILE)
        _write_csv(_checklist_rows(notices), folder / CHECKLIST_FILE)
        record = {
            "source": str(plan.root.resolve()),
            "source_manifest_sha256": sha256_file(plan.root / "manifest.json"),
            "dataset": str(dataset.root),
            "items": str(dataset.files["items"]) if "items" in dataset.files else None,
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "notices": len(notices),
            "checklist_rows": int(sum(len(n.checklist) for n in notices)),
            "files": files,
            "warnings": warnings,
        }
        (folder / RECORD_FILE).write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")

    moved = write_folder(Path(out), fill, replace=replace)
    return NoticesResult(Path(out), tuple(files), tuple(warnings), moved)


def plan_checklist(
    plan_dir: Path | str,
    dataset: Dataset | Path | str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """The merged checklist rows of every visit dated ``start``…``end`` of the plan folder, with
    Chinese headers (as checklist.csv), and the warnings of ``load_plan_dataset``."""
    _check_dates(start, end)
    plan = read_plan_folder(plan_dir)
    dataset, warnings = load_plan_dataset(plan, dataset)
    return _checklist_rows(plan_notices(plan.tables, dataset, start, end)), warnings


def _index_row(notice: Notice, name: str, digest: str) -> dict[str, Any]:
    return {
        "文件": name,
        "检查编号": notice.visit_id,
        "检查码": notice.visit_code,
        "日期": notice.date.isoformat(),
        "开始": clock(notice.start_min),
        "结束": clock(notice.end_min),
        "统一社会信用代码": notice.uscc,
        "企业名称": notice.enterprise,
        "地址": notice.address,
        "检查部门": "、".join(notice.departments),
        "牵头部门": notice.lead,
        "检查人员": "、".join(m.name for m in notice.crew),
        "执法证号": "、".join(m.cert_no or "" for m in notice.crew),
        "检查事项数": len(notice.items),
        "检查要点数": len(notice.checklist),
        "本年度第几次": notice.inspection_no,
        "SHA-256": digest,
    }


def _checklist_rows(notices: list[Notice]) -> pd.DataFrame:
    """Every notice's checklist rows with the visit's code, date and enterprise, Chinese headers."""
    rows = checklist_frame(row for notice in notices for row in notice.checklist)
    of_visit = {n.visit_id: n for n in notices}
    rows.insert(1, "visit_code", [of_visit[v].visit_code for v in rows["visit_id"]])
    rows.insert(2, "date", [of_visit[v].date.isoformat() for v in rows["visit_id"]])
    rows.insert(3, "enterprise", [of_visit[v].enterprise for v in rows["visit_id"]])
    headers = CHECKLIST_HEADERS | {"visit_code": "检查码", "date": "日期", "enterprise": "企业名称"}
    rows["catalogued"] = rows["catalogued"].map({True: "是", False: "否"})
    return rows.rename(columns=headers)


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text a spreadsheet would run as a formula given a leading ``'`` (OWASP)."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = [neutralise_csv_text(v) if isinstance(v, str) else v for v in safe[column]]
    return safe


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 with BOM (Excel reads the Chinese), formula-like text neutralised."""
    csv_safe(frame).to_csv(path, index=False, encoding="utf-8-sig")


__all__ = [
    "CrewMember",
    "Notice",
    "NoticesResult",
    "chinese_date",
    "csv_safe",
    "clock",
    "load_plan_dataset",
    "notice_document",
    "plan_checklist",
    "plan_notices",
    "write_notices",
]
