"""Show untrusted text literally on a terminal.

Record text can be written by an attacker (a ransom note, a phishing subject,
a client name from a compromised PSA). Printed raw, an ANSI escape can rewrite
the screen or the window title and a right-to-left override can reverse what
an engineer reads. These helpers make such characters visible instead.
"""

from __future__ import annotations

import unicodedata

_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"}


def visible(text: str, *, keep_newlines: bool = True) -> str:
    """Replace control, format and bidi-override characters with \\x.. / \\u.... escapes."""
    out = []
    for ch in text:
        if ch == "\n" and keep_newlines or ch == "\t":
            out.append(ch)
        elif ch in _BIDI or unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"}:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
