"""CSV that is safe to open in a spreadsheet.

A cell starting with = + - @ (or a tab / carriage return) is a formula to
Excel and LibreOffice: a client name like ``=cmd|' /C calc'!A0`` from a
compromised PSA would run when an analyst opens the export. Such cells are
prefixed with a single quote (OWASP's advice), which spreadsheets show as
text and which keeps the value readable.
"""

from __future__ import annotations

import csv
import io
from typing import Iterable, Sequence

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_TRIGGERS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()
