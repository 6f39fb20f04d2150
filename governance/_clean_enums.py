"""Enumerations of the shared STANDARDS.md and a table-driven mapper of their synonyms to codes.

Each enumeration lists its codes with the Chinese name, plus synonyms seen in
department data (abbreviations, older wording, English names). A value maps to
a code when, after invisible characters, full width and whitespace are folded
and letters case-folded, it is the code, the name, a synonym, ``code name``
joined by nothing or one of ``- : | 、 .``, or a numeric code whose leading
zero a spreadsheet dropped (``1`` for ``01``, ``1.0``). Anything else is a
:class:`CleaningError` that lists the valid values. Combined wordings of the
old law that name two kinds (``没收违法所得、没收非法财物``,
``暂扣或者吊销许可证``) are deliberately not mapped: picking one would be a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from governance._clean_base import CODE_WIDTH, INVISIBLE, NO_FINDINGS, SPACES, CleaningError, Finding

__all__ = ["ENUMERATIONS", "ENUMERATIONS_VERSION", "Enumeration"]

ENUMERATIONS_VERSION: Final = "jgnode enumerations 2 (2026-11-27): STANDARDS.md codes, plus sentiment"
"""Which edition of these tables a node runs; raise it with every change of a code, name or synonym."""

_JOINERS: Final = ("", "-", ":", "|", "、", ".", "_")


def _key(text: str) -> str:
    return "".join(text.translate(INVISIBLE).translate(CODE_WIDTH).translate(SPACES).split()).casefold()


class Enumeration:
    """One enumeration: codes with their names, and the synonyms that map to them."""

    __slots__ = ("_lookup", "labels", "name", "title")

    def __init__(self, name: str, title: str, labels: Mapping[str, str], synonyms: Mapping[str, str]) -> None:
        """Build the lookup once.

        Raises:
            ValueError: a synonym names an unknown code, or one spelling would map to two codes.
        """
        self.name = name
        self.title = title
        self.labels: Mapping[str, str] = MappingProxyType(dict(labels))
        self._lookup: dict[str, str] = {}
        for code, label in labels.items():
            self._add(code, code)
            self._add(label, code)
            for joiner in _JOINERS:
                self._add(f"{code}{joiner}{label}", code)
        for synonym, code in synonyms.items():
            if code not in labels:
                raise ValueError(f"enumeration {name}: synonym {synonym!r} names unknown code {code!r}")
            self._add(synonym, code)
        if all(code.isdigit() for code in labels):
            for code in labels:
                for variant in (str(int(code)), str(int(code)).zfill(2), f"{int(code)}.0"):
                    self._lookup.setdefault(_key(variant), code)

    def _add(self, spelling: str, code: str) -> None:
        key = _key(spelling)
        if self._lookup.setdefault(key, code) != code:
            raise ValueError(f"enumeration {self.name}: {spelling!r} would map to {self._lookup[key]} and {code}")

    def describe(self) -> str:
        """The valid values, for error messages: ``01 警告, 02 罚款, ...``."""
        return ", ".join(f"{code} {label}" for code, label in self.labels.items())

    def code_for(self, raw: str, field: str = "") -> tuple[str, tuple[Finding, ...]]:
        """The code a value stands for; a finding unless the value was the code itself.

        Raises:
            CleaningError: the value is none of the enumeration's spellings.
        """
        if raw in self.labels:
            return raw, NO_FINDINGS
        code = self._lookup.get(_key(raw))
        if code is None:
            reason = f"not a {self.title} ({self.name}); valid: {self.describe()}"
            raise CleaningError(f"enum.{self.name}", field, raw, reason)
        return code, (Finding(f"enum.{self.name}", field, raw, code),)


_TABLES: Final = (
    Enumeration(
        "penalty_kind",
        "行政处罚种类",
        {
            "01": "警告",
            "02": "罚款",
            "03": "没收违法所得",
            "04": "责令停产停业",
            "05": "吊销许可证件",
            "06": "行政拘留",
            "07": "法律、行政法规规定的其他行政处罚",
            "08": "通报批评",
            "09": "没收非法财物",
            "10": "降低资质等级",
            "11": "暂扣许可证件",
            "12": "限制开展生产经营活动",
            "13": "限制从业",
            "14": "责令关闭",
        },
        {
            "warning": "01",
            "警告处罚": "01",
            "fine": "02",
            "处以罚款": "02",
            "confiscation of illegal gains": "03",
            "停产停业": "04",
            "责令停业": "04",
            "责令停产": "04",
            "order to suspend production or business": "04",
            "吊销许可证": "05",
            "吊销执照": "05",
            "吊销营业执照": "05",
            "吊销许可证或执照": "05",
            "licence revoked": "05",
            "拘留": "06",
            "administrative detention": "06",
            "其他": "07",
            "其他行政处罚": "07",
            "其他处罚": "07",
            "other statutory": "07",
            "public criticism": "08",
            "confiscation of illegal property": "09",
            "降低资质": "10",
            "qualification downgraded": "10",
            "暂扣许可证": "11",
            "暂扣执照": "11",
            "暂扣营业执照": "11",
            "licence suspended": "11",
            "限制生产经营活动": "12",
            "限制生产经营": "12",
            "business activities restricted": "12",
            "employment restricted": "13",
            "关闭": "14",
            "order to close": "14",
        },
    ),
    Enumeration(
        "penalty_procedure",
        "处罚程序",
        {"01": "简易程序", "02": "普通程序"},
        {"简易": "01", "simple": "01", "普通": "02", "一般程序": "02", "general": "02"},
    ),
    Enumeration(
        "inspection_form",
        "检查形式",
        {"01": "日常检查", "02": "专项检查"},
        {"日常": "01", "常规检查": "01", "routine": "01", "专项": "02", "special": "02"},
    ),
    Enumeration(
        "inspection_category",
        "检查类别",
        {"1": "现场检查", "2": "非现场检查"},
        {"现场": "1", "on-site": "1", "非现场": "2", "off-site": "2"},
    ),
    Enumeration(
        "random_pool",
        "是否纳入双随机",
        {"1": "是", "2": "否"},
        {"yes": "1", "y": "1", "true": "1", "no": "2", "n": "2", "false": "2"},
    ),
    Enumeration(
        "counterparty_nature",
        "行政相对人性质",
        {"1": "公民", "2": "法人", "3": "其他组织"},
        {
            "自然人": "1",
            "个人": "1",
            "citizen": "1",
            "法人单位": "2",
            "法人组织": "2",
            "legal person": "2",
            "非法人组织": "3",
            "其他": "3",
            "other organisation": "3",
        },
    ),
    Enumeration(
        "matter_status",
        "事项状态",
        {"0": "在用", "1": "取消", "2": "暂停"},
        {"有效": "0", "启用": "0", "in use": "0", "已取消": "1", "cancelled": "1", "已暂停": "2", "suspended": "2"},
    ),
    Enumeration(
        "administrative_type",
        "行政行为类型",
        {"0": "行政检查", "1": "行政处罚", "2": "行政强制", "3": "其他行为"},
        {
            "检查": "0",
            "inspection": "0",
            "处罚": "1",
            "penalty": "1",
            "强制": "2",
            "enforcement": "2",
            "其他": "3",
            "其他行政行为": "3",
            "other": "3",
        },
    ),
    Enumeration(
        "check_result",
        "检查项结果",
        {"pass": "合格", "fail": "不合格", "not_inspected": "未检查", "not_applicable": "合理缺项"},
        {
            "符合": "pass",
            "通过": "pass",
            "不符合": "fail",
            "不通过": "fail",
            "未查": "not_inspected",
            "不适用": "not_applicable",
        },
    ),
    Enumeration(
        "disclosure_status",
        "公示状态",
        {"0": "正常", "1": "撤销", "2": "删除"},
        {"normal": "0", "已撤销": "1", "revoked": "1", "已删除": "2", "deleted": "2"},
    ),
    Enumeration(
        "credit_grade",
        "信用风险等级",
        {"A": "低风险", "B": "一般风险", "C": "较高风险", "D": "高风险"},
        {"A级": "A", "A类": "A", "B级": "B", "B类": "B", "C级": "C", "C类": "C", "D级": "D", "D类": "D"},
    ),
    Enumeration(
        "operation",
        "操作类型",
        {"i": "新增", "u": "更新", "d": "删除"},
        {"insert": "i", "update": "u", "delete": "d", "修改": "u", "增加": "i"},
    ),
    Enumeration(
        "complaint_kind",
        "诉求类型",
        {"complaint": "投诉", "tip": "举报"},
        {"投诉件": "complaint", "举报件": "tip"},
    ),
    Enumeration(
        "sentiment",
        "舆情倾向",
        {"positive": "正面", "neutral": "中性", "negative": "负面"},
        {"正向": "positive", "积极": "positive", "负向": "negative", "消极": "negative", "中立": "neutral"},
    ),
)

ENUMERATIONS: Final[Mapping[str, Enumeration]] = MappingProxyType({table.name: table for table in _TABLES})
"""Every enumeration by name (the ``<name>`` of a field kind ``enum:<name>``)."""
