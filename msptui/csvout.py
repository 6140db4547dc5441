"""CSV that is safe to open in a spreadsheet, and reads back exactly.

A cell starting with = + - @ (or a tab, carriage return or line feed) is a
formula to Excel and LibreOffice: a client name like ``=cmd|' /C calc'!A0``
from a compromised PSA would run when an analyst opens the export. Such cells
are prefixed with a single quote (OWASP's advice), which spreadsheets show as
text and which keeps the value readable. A cell that itself starts with a
quote gets one more, so ``unneutralise`` (which ``import`` applies to
msptui's own client CSV) strips exactly one and every value round-trips.

Every cell containing a comma, a quote, a carriage return or a line feed is
quoted: Python's csv writer leaves a bare carriage return unquoted when the
line terminator is ``\\n``, and a reader then starts a new row there (a name
beginning with CR smuggled ``=1+1`` into a row of its own).
"""

from __future__ import annotations

from typing import Iterable, Sequence

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_QUOTE_WHEN = (",", '"', "\r", "\n")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_TRIGGERS + ("'",)) else text


def unneutralise(cell: str) -> str:
    """The value ``safe_cell`` was given: one leading quote removed when ``safe_cell`` would have added it."""
    if cell.startswith("'") and cell[1:].startswith(_TRIGGERS + ("'",)):
        return cell[1:]
    return cell


def _field(text: str) -> str:
    if any(ch in text for ch in _QUOTE_WHEN):
        return '"' + text.replace('"', '""') + '"'
    return text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = [",".join(_field(h) for h in header)]
    for row in rows:
        lines.append(",".join(_field(safe_cell(v)) for v in row))
    return "\n".join(lines) + "\n"
