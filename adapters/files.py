"""Rows of department batch files: CSV, TSV, XLSX, JSON and JSON Lines, mapped to the dataset column shape.

A department's export has its own headers (often Chinese: ``检查日期``), its own
encoding (UTF-8 or GBK) and its own value formats (``2023年1月5日``). A
:class:`FileReader` turns such a file into ``(line, row)`` pairs whose keys are
the dataset's CSV columns (see :mod:`adapters.csv_records`), so every input
goes through the same row-to-record and validation path:

- ``mapping`` renames source columns (or JSON keys) to field names; other
  columns keep their names. JSON objects are flattened first: a nested object's
  keys become ``outer.inner``, a list of objects gives ``outer[].inner`` with
  the items' values joined by ``;`` (the CSV list shape), a list of plain
  values is joined by ``;`` under its own key;
- ``clean`` names a cleaning kind per field (:mod:`governance.clean`); a value
  that cannot be cleaned makes the row bad (it goes to quarantine with the
  reason), a corrected value is used as corrected.

Anything that makes the whole file unreadable raises :class:`FileFormatError`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from adapters.csv_records import CsvRow, check_header, rows_to_records, uid_column
from governance.clean import CleanValue, EncodingError, RowCleaner, decode_bytes, to_fen

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = ["ROW_ERROR", "FileFormatError", "FileReader", "cell_text", "detect_format"]

ROW_ERROR: Final = "_error"  # key of a row that could not be read: the reason, for quarantine
_SUFFIXES: Final = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
_JSON_LISTS: Final = ("items", "data", "records", "rows", "list", "result")  # where exports put their array


class FileFormatError(ValueError):
    """A file that cannot be read as a whole (unknown format, encoding, broken workbook, missing uid column)."""


def detect_format(path: Path, configured: str = "auto") -> str:
    """The format of ``path``: ``configured`` unless it is ``auto``, else by suffix."""
    if configured != "auto":
        return configured
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise FileFormatError(f"{path.name}: cannot tell the format from the suffix {path.suffix!r}; set format")
    return found


def cell_text(value: object) -> str:
    """An XLSX or JSON value as the text a CSV column would hold."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return _scalar_text(value)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() and value.tzinfo is None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores every number as a float: 20230105.0 is 20230105
    return str(value).strip()


def _clean_text(field: str, value: CleanValue | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(to_fen(value)) if field.endswith("_fen") else str(value)
    return value


def _read_text(path: Path) -> str:
    """A CSV, TSV or JSON Lines file's text in whichever supported encoding it is in."""
    try:
        return decode_bytes(path.read_bytes(), path.name).text
    except EncodingError as exc:
        raise FileFormatError(str(exc)) from None


@dataclass(frozen=True)
class FileReader:
    """Reads drop files of one dataset with one mapping; see the module docstring."""

    dataset: str
    mapping: Mapping[str, str] = field(default_factory=dict)
    clean: Mapping[str, str] = field(default_factory=dict)
    format: str = "auto"
    sheet: str | None = None

    def records(self, path: Path) -> Generator[CsvRow]:
        """The rows of ``path`` as records of the dataset (a bad row carries its error, for quarantine).

        Raises:
            FileFormatError: the file as a whole cannot be read.
        """
        yield from self.to_records(self.rows(path))

    def to_records(self, rows: Iterable[tuple[int, dict[str, str]]]) -> Generator[CsvRow]:
        """Mapped ``(line, row)`` pairs as records of the dataset (a row carrying ``ROW_ERROR`` keeps its error)."""
        uid_col = uid_column(self.dataset)
        for line, row in rows:
            error = row.pop(ROW_ERROR, "")
            if error:
                yield CsvRow(line, row, "upsert", row.get(uid_col, "").strip(), None, error)
            else:
                yield from rows_to_records(((line, row),), self.dataset)

    def rows(self, path: Path) -> Iterator[tuple[int, dict[str, str]]]:
        """``(line, row)`` pairs of ``path`` in the dataset's column shape (a bad row carries ``ROW_ERROR``).

        Raises:
            FileFormatError: the file as a whole cannot be read.
        """
        kind = detect_format(path, self.format)
        source = {
            "csv": self._delimited,
            "tsv": self._delimited,
            "xlsx": self._workbook,
            "jsonl": self._json_lines,
            "json": self._json_document,
        }
        yield from self.mapped(source[kind](path, kind))

    def mapped(self, rows: Iterable[tuple[int, dict[str, str]]]) -> Iterator[tuple[int, dict[str, str]]]:
        """Source rows renamed by ``mapping`` and cleaned by ``clean`` (a value that cannot be cleaned: ``ROW_ERROR``).

        Also the row shaping of the database collector, whose rows come from a query instead of a file.
        """
        cleaner = RowCleaner(self.clean) if self.clean else None
        for line, raw in rows:
            row = {self.mapping.get(key, key): text for key, text in raw.items()}
            if cleaner is not None and ROW_ERROR not in row:
                cleaned = cleaner.clean(row)
                if cleaned.errors:
                    row[ROW_ERROR] = "; ".join(str(error) for error in cleaned.errors)
                else:
                    row.update({name: _clean_text(name, cleaned.values[name]) for name in self.clean})
            yield line, row

    def _check_header(self, path: Path, header: list[str]) -> None:
        mapped = [self.mapping.get(name, name) for name in header]
        try:
            check_header(mapped, self.dataset, path.name)
        except ValueError as exc:
            sources = [k for k, v in self.mapping.items() if v == uid_column(self.dataset)]
            hint = f"; the mapping expects {', '.join(sources)}" if sources else "; map a column to it"
            raise FileFormatError(f"{exc}{hint}; columns are: {', '.join(header)}") from None

    def _delimited(self, path: Path, kind: str) -> Iterator[tuple[int, dict[str, str]]]:
        text = _read_text(path)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if kind == "tsv" else ",")
        header = [name.strip() for name in next(reader, [])]
        self._check_header(path, header)
        try:
            for values in reader:
                if not any(v.strip() for v in values):
                    continue  # blank lines, often at the end of hand-edited files
                row = dict(zip(header, values, strict=False))
                if len(values) != len(header):
                    row[ROW_ERROR] = f"{len(values)} values for {len(header)} columns"
                yield reader.line_num, row
        except csv.Error as exc:
            raise FileFormatError(f"{path.name}: line {reader.line_num}: {exc}") from None

    def _workbook(self, path: Path, _kind: str) -> Iterator[tuple[int, dict[str, str]]]:
        from openpyxl import load_workbook  # noqa: PLC0415 - only collectors of XLSX files need it

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile, XML and key errors for broken files
            raise FileFormatError(f"{path.name}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
        try:
            cells = self._sheet(book, path).iter_rows(values_only=True)
            header = [cell_text(v) for v in next(cells, ())]
            self._check_header(path, header)
            for number, values in enumerate(cells, start=2):
                texts = [cell_text(v) for v in values]
                if any(texts):
                    yield number, {name: text for name, text in zip(header, texts, strict=False) if name}
        except FileFormatError:
            raise
        except Exception as exc:  # a workbook broken inside: openpyxl's errors are not ours to tell apart
            raise FileFormatError(f"{path.name}: XLSX unreadable ({type(exc).__name__}: {exc})") from None
        finally:
            book.close()

    def _sheet(self, book: Workbook, path: Path) -> Any:
        if self.sheet is None:
            return book.worksheets[0]
        if self.sheet not in book.sheetnames:
            raise FileFormatError(f"{path.name}: no worksheet {self.sheet!r}; it has {', '.join(book.sheetnames)}")
        return book[self.sheet]

    def _json_lines(self, path: Path, _kind: str) -> Iterator[tuple[int, dict[str, str]]]:
        text = _read_text(path)
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, {"line": line, ROW_ERROR: f"not valid JSON: {exc.msg} at column {exc.colno}"}
                continue
            yield number, _json_row(value, line)

    def _json_document(self, path: Path, _kind: str) -> Iterator[tuple[int, dict[str, str]]]:
        """A JSON array of objects, or an object holding one under a usual key (``items``, ``data``, ...)."""
        try:
            document = json.loads(_read_text(path))
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"{path.name}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if isinstance(document, dict):
            found = next((document[key] for key in _JSON_LISTS if isinstance(document.get(key), list)), None)
            if found is None:
                keys = ", ".join(_JSON_LISTS)
                raise FileFormatError(f"{path.name}: a JSON array of records is expected (or an object with {keys})")
            document = found
        if not isinstance(document, list):
            raise FileFormatError(f"{path.name}: a JSON array of records is expected, not {type(document).__name__}")
        for number, value in enumerate(document, start=1):
            yield number, _json_row(value, json.dumps(value, ensure_ascii=False))


def _json_row(value: object, text: str) -> dict[str, str]:
    """A JSON record as a flat row (see the module docstring), or a row carrying the reason it is not one."""
    if not isinstance(value, dict):
        return {"line": text, ROW_ERROR: f"a JSON object is expected, not {type(value).__name__}"}
    row: dict[str, list[str]] = {}
    _flatten(value, "", row)
    return {key: ";".join(values) for key, values in row.items()}


def _flatten(value: object, key: str, row: dict[str, list[str]]) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            _flatten(item, f"{key}.{name}" if key else str(name), row)
    elif isinstance(value, list):
        if not value:
            row.setdefault(key, [])
        for item in value:
            _flatten(item, f"{key}[]" if isinstance(item, dict) else key, row)
    else:
        row.setdefault(key, []).append(cell_text(value))
