"""Money amounts: text in 元, 万元 or 亿元 to a ``Decimal`` in 元 with two decimals.

Accepted: full-width digits and punctuation, spaces anywhere, a leading ``¥``,
``￥``, ``RMB``, ``CNY`` or ``人民币``, thousands separators in groups of three
(``1,234,567.89``), and a trailing ``元``, ``元整``, ``千元``, ``万``/``万元``
or ``亿``/``亿元``. A plain number with at most two decimals (``15000``,
``15000.5``) is already clean. More than two decimals after the unit is applied
are rounded half up to the fen (rule ``amount.round``). A negative amount, an
exponent, a comma that is not a thousands separator (``1,5``) or anything else
is a :class:`CleaningError`.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from governance._clean_base import CODE_WIDTH, INVISIBLE, NO_FINDINGS, CleaningError, Finding

__all__ = ["clean_amount", "to_fen"]

_FEN: Final = Decimal("0.01")
_PLAIN: Final = re.compile(r"\d{1,15}(?:\.\d{1,2})?")
_NUMBER: Final = re.compile(r"(\d{1,3}(?:,\d{3}){1,4}|\d{1,15})(\.\d{1,8})?")
_BLANKS: Final = re.compile(r"\s+")
_PREFIXES: Final = ("人民币", "RMB", "CNY", "¥", "￥")
_UNITS: Final = (
    ("亿元", Decimal(100_000_000)),
    ("亿", Decimal(100_000_000)),
    ("万元", Decimal(10_000)),
    ("万", Decimal(10_000)),
    ("千元", Decimal(1000)),
    ("元整", Decimal(1)),
    ("元", Decimal(1)),
)
_NEGATIVE: Final = ("-", "\u2212", "(")  # after width folding


def _strip_unit(text: str) -> tuple[str, Decimal]:
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    for unit, factor in _UNITS:
        if text.endswith(unit):
            return text[: -len(unit)], factor
    return text, Decimal(1)


def clean_amount(raw: str, field: str = "") -> tuple[Decimal, tuple[Finding, ...]]:
    """An amount in 元, quantised to the fen.

    Raises:
        CleaningError: negative, empty or not an amount.
    """
    if _PLAIN.fullmatch(raw):
        return Decimal(raw).quantize(_FEN), NO_FINDINGS
    text = _BLANKS.sub("", raw.translate(INVISIBLE).translate(CODE_WIDTH)).upper()
    if text.startswith(_NEGATIVE) or text.endswith(")"):
        raise CleaningError("amount", field, raw, "negative amount")
    number, factor = _strip_unit(text)
    if number.startswith(_NEGATIVE):
        raise CleaningError("amount", field, raw, "negative amount")
    match = _NUMBER.fullmatch(number)
    if match is None:
        raise CleaningError("amount", field, raw, "not an amount (digits with an optional 元, 万元 or 亿元)")
    exact = Decimal(match[1].replace(",", "") + (match[2] or "")) * factor
    amount = exact.quantize(_FEN, rounding=ROUND_HALF_UP)
    rule = "amount.round" if amount != exact else "amount.unit" if factor != 1 else "amount.format"
    return amount, (Finding(rule, field, raw, str(amount)),)


def to_fen(amount: Decimal) -> int:
    """An amount in 元 as whole fen (the unit records store)."""
    return int(amount.quantize(_FEN, rounding=ROUND_HALF_UP) * 100)
