"""Reading spreadsheet exports: encodings, delimiters and physical line numbers.

PSA exports come from Windows desktops as UTF-8 (with or without a BOM),
UTF-16 with a BOM (Excel "Unicode text", tab-separated) or Windows-1252. The
encoding is decided by the byte-order mark, else by *strict* decoding:
UTF-8 first (a cp1252 file with accented names is practically never valid
UTF-8), then cp1252 (which leaves five bytes undefined). No guessing library
is needed for that choice; ``--encoding`` overrides it.

Rows keep the physical line they start on in the file (CRLF counted once,
blank rows and newlines inside quoted cells counted), so an error names the
line an editor shows.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError

#: an import holds every row's records in memory (about 5 KiB each): these bounds keep its peak near 1 GiB
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_ROWS = 100_000
_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16 with BOM", "cp1252": "Windows-1252"}


def normalise(name: str) -> str:
    """A header or label compared case-, space- and punctuation-insensitively.

    ``Address Line 1``, ``addressLine1``, ``address_line_1`` and
    ``address-line-1`` are the same column; ``company.identifier`` (a nested
    API name flattened) equals ``Company Identifier``.
    """
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def _line_of(raw: bytes, pos: int, encoding: str) -> int:
    return raw[:pos].decode(encoding, errors="replace").count("\n") + 1


def decode(path: Path, raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and a label for the encoding it was read as."""
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise UserError(f"--encoding {encoding!r} is not an encoding Python knows (e.g. utf-8, utf-16, cp1252)") from None
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            raise UserError(
                f"{path}: cannot be read as {encoding}: byte 0x{raw[exc.start]:02x} at byte {exc.start} "
                f"(line {_line_of(raw, exc.start, codec)}) is not valid there"
            ) from None
        return text.removeprefix("\ufeff"), encoding
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[3:].decode("utf-8"), _LABELS["utf-8-sig"]
        except UnicodeDecodeError as exc:
            pos = exc.start + 3
            raise UserError(
                f"{path}: starts with a UTF-8 byte-order mark but is not valid UTF-8 at byte {pos} "
                f"(line {_line_of(raw, pos, 'utf-8')}); save it again as UTF-8 or give --encoding"
            ) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), _LABELS["utf-16"]
        except UnicodeDecodeError as exc:
            raise UserError(
                f"{path}: starts with a UTF-16 byte-order mark but is not valid UTF-16 at byte {exc.start} "
                f"({exc.reason}); save it again or give --encoding"
            ) from None
    sample = raw[:4096]
    if sample and sample.count(0) * 4 >= len(sample):
        raise UserError(
            f"{path}: full of NUL bytes: UTF-16 without a byte-order mark? "
            "Save it with a BOM (Excel: 'Unicode Text') or give --encoding utf-16-le"
        )
    try:
        return raw.decode("utf-8"), _LABELS["utf-8"]
    except UnicodeDecodeError as utf8:
        try:
            return raw.decode("cp1252"), _LABELS["cp1252"]
        except UnicodeDecodeError as cp:
            raise UserError(
                f"{path}: not valid UTF-8 at byte {utf8.start} (line {_line_of(raw, utf8.start, 'utf-8')}), "
                f"nor Windows-1252 (byte 0x{raw[cp.start]:02x} at byte {cp.start} is undefined there); "
                "give --encoding NAME"
            ) from None


def read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise UserError(f"{path}: not a regular file" if path.exists() else f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError(f"{path}: {size:,} bytes is larger than the {MAX_FILE_BYTES:,} bytes one import may read "
                        "(it holds every record in memory); split it into several files")
    return path.read_bytes()


@dataclass
class Row:
    line: int  #: physical line the row starts on
    cells: dict[str, str]  #: normalised header -> cell text, exactly as exported


@dataclass
class Table:
    path: Path
    encoding: str
    headers: list[str]  #: as written in the file
    keys: dict[str, str]  #: normalised -> header as written
    rows: list[Row] = field(default_factory=list)
    blank: int = 0
    problems: list[str] = field(default_factory=list)

    def header(self, key: str) -> str:
        return self.keys.get(key, key)


def _delimiter(header_line: str) -> str:
    """Comma, tab (Excel 'Unicode text') or semicolon (European Excel), by the header row."""
    best, count = ",", -1
    for candidate in (",", "\t", ";"):
        cells = next(csv.reader([header_line], delimiter=candidate), [])
        if len(cells) > count:
            best, count = candidate, len(cells)
    return best


def _blank(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


def read_table(path: Path, text: str, encoding: str) -> Table:
    """Parse ``text`` as a delimited table with a header row; rows keep their physical line."""
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        raise UserError(f"{path}: the file is empty (no header row)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    table: Table | None = None
    previous = 0
    try:
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if _blank(cells):
                if table is not None:
                    table.blank += 1
                continue
            if table is None:
                table = _header(path, encoding, cells, start)
                continue
            if len(cells) > len(table.headers) and not _blank(cells[len(table.headers):]):
                table.problems.append(
                    f"{path}: line {start}: {len(cells)} values but the header row has {len(table.headers)} columns"
                )
                continue
            row = Row(start, {})
            for index, header in enumerate(table.headers):
                key = normalise(header)
                if key:
                    row.cells[key] = cells[index] if index < len(cells) else ""
            table.rows.append(row)
            if len(table.rows) > MAX_ROWS:
                raise UserError(f"{path}: more than {MAX_ROWS:,} rows, more than one import may hold in memory; split it")
    except csv.Error as exc:
        raise UserError(f"{path}: line {reader.line_num}: {exc}") from None
    assert table is not None
    return table


def _header(path: Path, encoding: str, cells: list[str], line: int) -> Table:
    headers = [c.strip() for c in cells]
    keys: dict[str, str] = {}
    for header in headers:
        key = normalise(header)
        if not key:
            continue
        if key in keys:
            raise UserError(
                f"{path}: line {line}: columns {keys[key]!r} and {header!r} are the same once case, spaces "
                "and punctuation are ignored; rename one"
            )
        keys[key] = header
    return Table(path, encoding, headers, keys)
