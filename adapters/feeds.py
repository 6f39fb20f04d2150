"""Third-party feeds: complaint-hotline exports and public-opinion items, as presets of the files collector.

A preset is the mapping and cleaning of one kind of third-party export, so a
node takes such files in with ``preset = "<name>"`` in a ``[[collect]]`` table
(keys given there override the preset's). What the rows name is linked to
regulated objects afterwards by the resolver (``node.resolve``): a complaint
by its object name and credit code, an opinion item by each entity it lists.

- ``hotline_12345``: work-order exports of the 12345 government service
  hotline (CSV/XLSX with Chinese headers), into ``complaint``;
- ``opinion``: public-opinion monitoring items (JSON array or JSON Lines;
  ``entities`` a list of ``{name, code}``), into ``public_opinion``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

__all__ = ["FEEDS", "FeedPreset", "feed_preset"]


@dataclass(frozen=True, slots=True)
class FeedPreset:
    """The dataset a feed fills, its column mapping and the cleaning of its fields."""

    dataset: str
    mapping: Mapping[str, str] = field(default_factory=dict)
    clean: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


FEEDS: Final[Mapping[str, FeedPreset]] = {
    "hotline_12345": FeedPreset(
        dataset="complaint",
        mapping={
            "工单编号": "complaint_number",
            "诉求类型": "kind",
            "被反映对象": "object_name",
            "被反映对象统一社会信用代码": "object_credit_code",
            "问题分类": "complaint_type",
            "所属区划": "region_code",
            "服务类型": "service_type",
            "服务名称": "service_name",
            "纠纷发生日期": "dispute_date",
            "诉求内容": "details",
            "办理状态": "handling_status",
            "受理时间": "received_at",
        },
        clean={
            "kind": "enum:complaint_kind",
            "object_name": "name",
            "object_credit_code": "code",
            "region_code": "code",
            "dispute_date": "date",
            "received_at": "datetime",
            "details": "text",
        },
        description="12345 hotline work orders (complaints and tips) -> complaint",
    ),
    "opinion": FeedPreset(
        dataset="public_opinion",
        mapping={
            "id": "item_id",
            "source": "source",
            "title": "title",
            "content": "text",
            "publish_time": "published_at",
            "url": "url",
            "entities[].name": "linked_names",
            "entities[].code": "linked_credit_codes",
            "region": "region_code",
            "sentiment": "sentiment",
        },
        clean={"published_at": "datetime", "title": "text", "text": "text", "sentiment": "enum:sentiment"},
        description="public-opinion monitoring items -> public_opinion, linked to the entities they name",
    ),
}
"""The presets by name."""


def feed_preset(name: str) -> FeedPreset:
    """The preset called ``name``; ValueError naming the known ones when there is none."""
    preset = FEEDS.get(name)
    if preset is None:
        raise ValueError(f"unknown feed preset {name!r}; known: {', '.join(sorted(FEEDS))}")
    return preset
