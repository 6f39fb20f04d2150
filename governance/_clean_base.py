"""What every cleaning rule shares: the finding, the error, and the character tables.

The tables are ``str.translate`` maps built once at import; a rule runs them only
after a precompiled "anything to do?" search has matched, so a clean value costs
one regex scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Final

__all__ = [
    "CHINA_TZ",
    "CODE_WIDTH",
    "INVISIBLE",
    "INVISIBLE_CHARS",
    "NAME_WIDTH",
    "NO_FINDINGS",
    "SPACES",
    "SPACE_CHARS",
    "TEXT_WIDTH",
    "CleaningError",
    "Finding",
]

CHINA_TZ: Final = timezone(timedelta(hours=8), "CST")
"""China Standard Time (UTC+8): the zone of every instant written without an offset."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One correction made while cleaning a field: which rule, and the value before and after it."""

    rule: str
    field: str
    old: str
    new: str


class CleaningError(ValueError):
    """A value that cannot be cleaned without guessing; the caller quarantines its record.

    Attributes:
        rule: the rule that refused the value (``date``, ``amount``, ``enum.penalty_kind``...).
        field: the field the value came from.
        value: the raw value, unchanged.
        reason: why, in words an operator can act on.
    """

    def __init__(self, rule: str, field: str, value: str, reason: str) -> None:
        super().__init__(f"{field or 'value'} {value!r}: {reason}")
        self.rule = rule
        self.field = field
        self.value = value
        self.reason = reason


NO_FINDINGS: Final[tuple[Finding, ...]] = ()

# Zero-width characters, BOM, soft hyphen, direction marks, invisible operators and
# C0/C1 controls other than tab, line feed and carriage return (those are whitespace).
INVISIBLE_CHARS: Final = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
    + "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r")
    + "".join(chr(c) for c in range(0x7F, 0xA0) if c != 0x85)
)
INVISIBLE: Final = str.maketrans(dict.fromkeys(INVISIBLE_CHARS))

# Space-like characters that become an ASCII space (line and paragraph separators too).
SPACE_CHARS: Final = (
    "\t\x0b\x0c\x85\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
SPACES: Final = str.maketrans(dict.fromkeys(SPACE_CHARS, " "))


def _fold(chars: range) -> dict[int, str]:
    return {c: chr(c - 0xFEE0) for c in chars}


_DIGITS = range(0xFF10, 0xFF1A)
_UPPER = range(0xFF21, 0xFF3B)
_LOWER = range(0xFF41, 0xFF5B)
_ALL_FULL = range(0xFF01, 0xFF5F)

TEXT_WIDTH: Final = str.maketrans({**_fold(_DIGITS), **_fold(_UPPER), **_fold(_LOWER)})
"""Free text: full-width letters and digits only; Chinese prose keeps full-width punctuation (GB/T 15834)."""

NAME_WIDTH: Final = str.maketrans({c: v for c, v in _fold(_ALL_FULL).items() if c not in (0xFF08, 0xFF09)})
"""Names: the whole full-width ASCII block except the round brackets, which the bracket rule owns."""

CODE_WIDTH: Final = str.maketrans(_fold(_ALL_FULL))
"""Codes and numbers: the whole full-width ASCII block."""
