"""Records of the regulatory matters catalog (监管事项目录清单, shared STANDARDS.md section 1).

Three levels (main item, sub-item, implementation list) and the local-national
mapping. The catalog is versioned: every record carries the 14-digit id and the
date of the catalog version it belongs to, and its uid includes the version id,
so a new catalog version adds records instead of overwriting the old ones (an
action is read against the catalog version in force on its date).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ImplList", "Matter", "MatterMapping", "MatterSub"]


@dataclass(frozen=True, slots=True)
class Matter:
    """监管事项主项: a main item of the catalog in one catalog version."""

    matter_code: str  # 监管事项编码, 14 digits
    name: str
    version_id: str  # 目录版本号, 14 digits
    version_date: str
    parent_code: str = ""  # 上级事项编码
    department: str = ""  # 监管部门
    power_item_code: str = ""  # 权力事项编码
    status: str = "0"  # 0 in use, 1 cancelled, 2 suspended

    @property
    def uid(self) -> str:
        """Record uid: ``matter_code@version_id``."""
        return f"{self.matter_code}@{self.version_id}"


@dataclass(frozen=True, slots=True)
class MatterSub:
    """监管事项子项: a sub-item of a main item."""

    sub_code: str  # 子项编码
    matter_code: str
    name: str
    version_id: str
    version_date: str
    action_type: str  # 0 inspection, 1 penalty, 2 enforcement, 3 other
    object_category: str = ""  # 监管对象类别
    form: str = ""  # 监管方式
    method: str = ""  # 监管措施
    legal_basis: str = ""  # 设定依据
    process: str = ""  # 监管流程
    result: str = ""  # 监管结果
    supervision_level: str = ""  # 监管层级
    effective_date: str = ""  # 计划生效日期
    cancel_date: str = ""  # 计划取消日期

    @property
    def uid(self) -> str:
        """Record uid: ``sub_code@version_id``."""
        return f"{self.sub_code}@{self.version_id}"


@dataclass(frozen=True, slots=True)
class ImplList:
    """检查实施清单: how one agency carries out a matter; its code is what action records cite."""

    impl_list_code: str  # agency credit code (18) + level digit + agency-specific part
    matter_code: str
    level: str  # 行使层级 1-5, equal to the digit after the credit code
    agency_name: str  # 实施机构
    agency_credit_code: str  # equal to the first 18 characters of the code
    version_id: str
    version_date: str
    sub_code: str = ""
    delegated_department: str = ""  # 委托部门
    inspection_category: str = "1"  # 1 on-site, 2 off-site
    inspection_method: str = ""  # 检查方式
    random_pool: str = "1"  # 纳入双随机: 1 yes, 2 no
    inspection_ratio_bp: int = 0  # 抽查比例 in basis points (300 = 3%): an integer, never a float
    frequency: str = ""  # 检查频次
    content_kind: str = "routine"  # "routine" 日常 or "special" 专项
    collaborative: str = ""  # 是否联合检查: "1" yes, "0" no, "" not recorded

    @property
    def uid(self) -> str:
        """Record uid: ``impl_list_code@version_id``."""
        return f"{self.impl_list_code}@{self.version_id}"


@dataclass(frozen=True, slots=True)
class MatterMapping:
    """A local (provincial) matter code and the national code it corresponds to."""

    local_code: str  # 地方事项编码
    national_code: str  # 国家事项编码
    version_id: str
    mapped_on: str
    note: str = ""

    @property
    def uid(self) -> str:
        """Record uid: ``local_code@version_id``."""
        return f"{self.local_code}@{self.version_id}"
