"""Why a task was not placed, in categories an official reads at a glance (Chinese).

The reason sentences come from instance.py, merge.py, schedule.py and reoptimize.py; the first
pattern found in a reason names its category. tests/test_report.py checks that the sample
county needs no "其他".
"""

from __future__ import annotations

REASON_CATEGORIES = (
    ("outside the horizon", "超出计划期"),
    ("观察期", "新业态观察期内"),
    ("quiet day", "窗口内均为静默日"),
    ("no official working day", "窗口内无工作日（节假日）"),
    ("合规正面清单", "合规正面清单一年最多查一次"),
    ("capped visits a year", "部门年度检查次数上限"),
    ("no certified inspector", "无持证执法人员"),
    ("longer than any available inspector's day", "单日时间不足（路程加现场超过工作日）"),
    ("was free on any working day", "执法力量不足（窗口内无空闲检查组）"),
    ("could take it on any of the", "执法力量不足（窗口内无空闲检查组）"),
    ("full stay", "同一企业当日检查已满（单次现场不超过6小时）"),
    ("left out of a joint visit", "为保必查任务让出联合检查"),
    ("cancelled by the department", "部门已取消"),
    ("enterprise has closed", "企业已注销或歇业"),
    ("outside a planned visit", "已在计划外完成"),
    ("window ended before the re-optimisation", "时间窗已过且未完成"),
)
OTHER_REASON = "其他"


def reason_category(reason: str) -> str:
    """The category (Chinese) of an unscheduled task's reason sentence; "其他" if none matches."""
    for pattern, category in REASON_CATEGORIES:
        if pattern in reason:
            return category
    return OTHER_REASON
