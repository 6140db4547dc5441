"""Show untrusted text literally on a terminal.

Record text can be written by an attacker (a ransom note, a phishing subject,
a client name from a compromised PSA). Printed raw, an ANSI escape can rewrite
the screen or the window title, a right-to-left override can reverse what
an engineer reads, and a newline, carriage return or Unicode line separator
inside a field can start a fake line of output ("ALL STEPS DONE"). These
helpers make such characters visible instead:

- ``visible`` for a block of text whose own line breaks are meant (a note in
  the TUI);
- ``one_line`` for a line of output: every line break inside it is shown as
  an escape too (the CLI prints every human-readable line through it);
- ``json_text`` for JSON output: the characters JSON leaves raw (C1 controls,
  DEL, format and bidi characters, U+2028/U+2029) as ``\\uXXXX`` escapes, so
  a terminal showing ``--json`` output is not driven by them either.
"""

from __future__ import annotations

import re
import unicodedata

_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"}
#: control, format, surrogate, private-use and line/paragraph-separator characters
_ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str, *, keep_newlines: bool = True) -> str:
    """Replace control, format, bidi-override and line-separator characters with \\x.. / \\u.... escapes.

    ``keep_newlines`` keeps ``\\n`` (a multi-line note shown as such); tabs are kept.
    """
    out = []
    for ch in text:
        if ch == "\n" and keep_newlines or ch == "\t":
            out.append(ch)
        elif ch in _BIDI or unicodedata.category(ch) in _ESCAPED_CATEGORIES:
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def symbols(text: str) -> str:
    """``text`` with each control, format, bidi-override and line-separator character drawn as ONE visible symbol
    (a C0 control as its Unicode control picture, e.g. ESC as U+241B; any other as U+FFFD).

    For a text box being edited: one character for one keeps the cursor where the text is, while nothing that a
    terminal would act on (an escape sequence, a right-to-left override) is ever written to it.
    """
    out = []
    for ch in text:
        if ch in _BIDI or unicodedata.category(ch) in _ESCAPED_CATEGORIES:
            code = ord(ch)
            out.append(chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def has_visible(text: str) -> bool:
    """Whether ``text`` shows anything: not only spaces, controls, format characters (a zero-width space) or
    separators. A name or reason made of those looks empty to everyone who reads it."""
    return any(not ch.isspace() and ch not in _BIDI and unicodedata.category(ch) not in _ESCAPED_CATEGORIES
               for ch in text)


def one_line(text: str) -> str:
    """``text`` as exactly one line of output: every control character, tab and line break escaped."""
    return visible(str(text), keep_newlines=False).replace("\t", "\\x09")


def _json_escape(match: re.Match) -> str:
    code = ord(match.group(0))
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


#: every character that is not printable ASCII (JSON has already escaped C0 controls, quotes and backslashes)
_JSON_RISKY = re.compile("[^\\x00-\\x7e]")



def json_text(dumped: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with risky characters as \\u escapes.

    Only characters inside JSON strings can be non-ASCII, so escaping them
    keeps the document valid and equal when parsed.
    """
    def repl(match: re.Match) -> str:
        ch = match.group(0)
        if ch in _BIDI or unicodedata.category(ch) in _ESCAPED_CATEGORIES:
            return _json_escape(match)
        return ch

    return _JSON_RISKY.sub(repl, dumped)
