"""Which encoding a department's CSV/TSV file is in: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030.

UTF-8 is tried first and strictly: text in GBK almost never forms valid UTF-8
beyond a few characters, while any UTF-8 text would decode as (wrong) GB18030.
GB18030 is a superset of GBK and GB2312, so one attempt covers all three.
Excel's "Unicode text" export is UTF-16 with a BOM, which is recognised by the BOM.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DecodedText", "EncodingError", "decode_bytes", "read_text_file"]


class EncodingError(ValueError):
    """Bytes that are neither UTF-8 nor GB18030; the message names the first bad byte offset for each."""

    def __init__(self, source: str, utf8_offset: int, gb_offset: int, sample: bytes) -> None:
        super().__init__(
            f"{source}: not UTF-8 (invalid byte at offset {utf8_offset}) nor GB18030/GBK "
            f"(invalid byte at offset {gb_offset}, bytes {sample.hex(' ')})"
        )
        self.utf8_offset = utf8_offset
        self.gb_offset = gb_offset


@dataclass(frozen=True, slots=True)
class DecodedText:
    """A file's text and the encoding it was read with (``utf-8``, ``utf-8-sig``, ``utf-16``, ``gb18030``)."""

    text: str
    encoding: str


def decode_bytes(data: bytes, source: str = "data") -> DecodedText:
    """Decode a whole file's bytes, detecting its encoding.

    Args:
        data: the file's bytes.
        source: what to call them in an error (a file name).

    Raises:
        EncodingError: the bytes are neither UTF-8 nor GB18030.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return DecodedText(data.decode("utf-16"), "utf-16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return DecodedText(data.decode("gb18030"), "gb18030")
        except UnicodeDecodeError as gb_error:
            sample = data[gb_error.start : gb_error.start + 4]
            raise EncodingError(source, utf8_error.start, gb_error.start, sample) from None
    return DecodedText(text, "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8")


def read_text_file(path: Path) -> DecodedText:
    """A file's text in whichever of the supported encodings it is in.

    Raises:
        EncodingError: see :func:`decode_bytes`.
    """
    return decode_bytes(path.read_bytes(), str(path))
