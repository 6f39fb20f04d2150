"""Dates and instants in the forms department systems write them.

Accepted, after full-width digits and stray whitespace are folded away:

- ``2023-01-05`` (canonical, no finding), ``2023-1-5``, ``2023/1/5``,
  ``2023.1.5`` (one separator throughout), ``2023年1月5日`` (``号`` too),
  ``20230105``;
- any of those followed by a time: ``14:30``, ``14:30:00``, ``14:30:00.123``,
  ``T14:30:00+08:00``, ``Z``, ``14时30分``, ``14点30分05秒``;
  ``20230105143000`` (14 digits);
- Chinese numerals: ``二〇二三年一月五日``, ``二零二三年十二月三十一日``;
- Excel serial numbers (1900 date system) from 20000 to 73415
  (1954-10-03 to 2100-12-31); a fraction is the time of day. In that range
  Excel's fictitious 1900-02-29 (serial 60) lies far behind, so day 0 is
  1899-12-30;
- Unix timestamps in seconds (9-10 digits) and milliseconds (12-13 digits)
  from 1990-01-01 to 2100-01-01.

A time without an offset is China Standard Time (UTC+8); instants come back in
that zone, so ``2023-01-05T14:30:00+08:00`` is the canonical form and anything
else that parses is a finding. An impossible date (``2023-02-30``), a year
outside 1900-2100, a number outside the plausible ranges or any other form
(``1/5/2023``, ``23-1-5``: day/month order would be a guess) is a
:class:`CleaningError`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Final

from governance._clean_base import CHINA_TZ, CODE_WIDTH, INVISIBLE, NO_FINDINGS, SPACES, CleaningError, Finding

__all__ = ["clean_date", "clean_datetime", "parse_instant"]

_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_INSTANT: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?\+08:00")
_DAY: Final = re.compile(
    r"(?P<y>\d{4})(?:(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})|年(?P<cm>\d{1,2})月(?P<cd>\d{1,2})[日号]?)"
)
_TIME: Final = re.compile(
    r"(?:T|\s)?\s*(?:"
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"|(?P<ch>\d{1,2})[时点](?:(?P<cmi>\d{1,2})分(?:(?P<cs>\d{1,2})秒)?)?"
    r")\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?"
)
_COMPACT: Final = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?")
_SERIAL: Final = re.compile(r"(\d{5})(?:\.(\d+))?")
_DIGITS: Final = re.compile(r"\d+")
_CN_DIGITS: Final = str.maketrans("〇零○一二三四五六七八九", "00012345678" + "9")
_CN_NUMERAL: Final = re.compile("[〇零○一二三四五六七八九十]")
_CN_TENS: Final = re.compile(r"(\d?)十(\d?)")
_EXCEL_DAY0: Final = date(1899, 12, 30)
_EXCEL_RANGE: Final = range(20_000, 73_416)  # 1954-10-03 .. 2100-12-31
_UNIX_MIN: Final = int(datetime(1990, 1, 1, tzinfo=UTC).timestamp())
_UNIX_MAX: Final = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())
_YEARS: Final = range(1900, 2101)


def _tens(match: re.Match[str]) -> str:
    return str(int(match[1] or 1) * 10 + int(match[2] or 0))


def _normalise(raw: str) -> tuple[str, bool]:
    """Width, invisible and space folded, Chinese numerals made digits; and whether there were numerals."""
    text = raw.translate(INVISIBLE).translate(CODE_WIDTH).translate(SPACES).strip()
    if _CN_NUMERAL.search(text) is None:
        return text, False
    return _CN_TENS.sub(_tens, text.translate(_CN_DIGITS)), True


def _day(raw: str, field: str, y: str, m: str, d: str) -> date:
    year, month, day = int(y), int(m), int(d)
    if year not in _YEARS:
        raise CleaningError("date", field, raw, f"year {year} is outside 1900-2100")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise CleaningError("date", field, raw, f"impossible date {year:04d}-{month:02d}-{day:02d} ({exc})") from None


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return timezone(-delta if text[0] == "-" else delta)


def _clock(raw: str, field: str, rest: str) -> tuple[time, timezone | None] | None:
    """The time part after a date: None when there is none, an error when it does not parse."""
    if not rest:
        return None
    match = _TIME.fullmatch(rest)
    if match is None:
        raise CleaningError("date", field, raw, f"unrecognised time {rest!r} after the date")
    hour, minute, second = (
        match["h"] or match["ch"],
        match["mi"] or match["cmi"] or "0",
        match["s"] or match["cs"] or "0",
    )
    micro = int((match["f"] or "0")[:6].ljust(6, "0"))
    try:
        clock = time(int(hour), int(minute), int(second), micro)
    except ValueError as exc:
        raise CleaningError("date", field, raw, f"impossible time {rest!r} ({exc})") from None
    return clock, (_offset(match["tz"]) if match["tz"] else None)


def _from_number(raw: str, field: str, text: str) -> tuple[datetime, str] | None:
    """Excel serials and Unix timestamps; None when ``text`` is not such a number."""
    serial = _SERIAL.fullmatch(text)
    if serial is not None:
        days = int(serial[1])
        if days not in _EXCEL_RANGE:
            raise CleaningError(
                "date", field, raw, "a 5-digit number is read as an Excel serial, 20000-73415 (1954-2100)"
            )
        seconds = round(float(f"0.{serial[2] or 0}") * 86_400)
        moment = datetime.combine(_EXCEL_DAY0 + timedelta(days=days), time(), CHINA_TZ) + timedelta(seconds=seconds)
        return moment, "excel_serial"
    if _DIGITS.fullmatch(text) is None or len(text) not in (9, 10, 12, 13):
        return None
    value = int(text) / (1000 if len(text) > 10 else 1)
    if not _UNIX_MIN <= value < _UNIX_MAX:
        raise CleaningError("date", field, raw, "a Unix timestamp must fall between 1990 and 2100")
    return datetime.fromtimestamp(value, CHINA_TZ), "unix_time"


def _parse(raw: str, field: str) -> tuple[date, tuple[time, timezone | None] | None, str]:
    """The date, the time if any, and the source form (``format``, ``chinese_numerals``, ...)."""
    text, numerals = _normalise(raw)
    if not text:
        raise CleaningError("date", field, raw, "empty")
    compact = _COMPACT.fullmatch(text)
    if compact is not None:
        day = _day(raw, field, compact[1], compact[2], compact[3])
        if compact[4] is None:
            return day, None, "format"
        return day, _clock(raw, field, f"{compact[4]}:{compact[5]}:{compact[6]}"), "format"
    number = _from_number(raw, field, text)
    if number is not None:
        moment, form = number
        return moment.date(), (moment.timetz().replace(tzinfo=None), CHINA_TZ), form
    match = _DAY.match(text)
    if match is None:
        raise CleaningError("date", field, raw, "not a recognised date (use YYYY-MM-DD)")
    day = _day(raw, field, match["y"], match["m"] or match["cm"], match["d"] or match["cd"])
    return day, _clock(raw, field, text[match.end() :].strip()), "chinese_numerals" if numerals else "format"


def parse_instant(raw: str, field: str = "") -> tuple[datetime, str]:
    """An aware datetime in China Standard Time and the form it was written in; a date alone is midnight.

    Raises:
        CleaningError: the text is not a date or instant, or names an impossible one.
    """
    day, clock, form = _parse(raw, field)
    if clock is None:
        return datetime.combine(day, time(), CHINA_TZ), form
    moment = datetime.combine(day, clock[0], clock[1] or CHINA_TZ)
    return moment.astimezone(CHINA_TZ), form


def clean_date(raw: str, field: str = "") -> tuple[date, tuple[Finding, ...]]:
    """A calendar date; an instant is taken as its date in China Standard Time.

    Raises:
        CleaningError: see the module docstring.
    """
    if len(raw) == 10 and _ISO_DATE.fullmatch(raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            pass  # an impossible date: the full parse below names it
        else:
            if day.year in _YEARS:
                return day, NO_FINDINGS
    day, clock, form = _parse(raw, field)
    if clock is not None and clock[1] is not None:
        day = datetime.combine(day, clock[0], clock[1]).astimezone(CHINA_TZ).date()
    return day, (Finding(f"date.{form}", field, raw, day.isoformat()),)


def clean_datetime(raw: str, field: str = "") -> tuple[datetime, tuple[Finding, ...]]:
    """An instant as an aware datetime in China Standard Time (a date alone is midnight).

    Raises:
        CleaningError: see the module docstring.
    """
    if _ISO_INSTANT.fullmatch(raw):
        try:
            moment = datetime.fromisoformat(raw).replace(tzinfo=CHINA_TZ)
        except ValueError:
            pass  # an impossible day or time: the full parse below names it
        else:
            if moment.year in _YEARS:
                return moment, NO_FINDINGS
    moment, form = parse_instant(raw, field)
    canonical = moment.isoformat()
    findings = NO_FINDINGS if canonical == raw else (Finding(f"datetime.{form}", field, raw, canonical),)
    return moment, findings
