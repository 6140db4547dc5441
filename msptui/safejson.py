"""Reading JSON someone else wrote (a record file to import, a dossier to verify) without a traceback.

``json.loads`` on hostile input fails in ways that are not ``JSONDecodeError``:
deep nesting raises ``RecursionError``, an integer of more than 4,300 digits
raises a bare ``ValueError`` (Python's int-conversion limit), ``1e999`` reads
as infinity and ``NaN`` as not-a-number. ``loads`` turns every one of these
into a ``JSONInputError`` with one line saying what and where, and refuses
structures nested deeper than ``MAX_DEPTH`` (no msptui file needs more than
a handful of levels).
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

MAX_DEPTH = 64
#: digits (and sign, point, exponent) in one JSON number: money and counts need far fewer
MAX_NUMBER_CHARS = 40


class JSONInputError(ValueError):
    """Input that is not acceptable JSON; the message is one line."""


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise JSONInputError(f"a number of {len(text):,} digits (at most {MAX_NUMBER_CHARS} allowed)")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JSONInputError(f"a number of {len(text):,} characters (at most {MAX_NUMBER_CHARS} allowed)")
    value = float(text)
    if not math.isfinite(value):
        raise JSONInputError(f"the number {text[:MAX_NUMBER_CHARS]} is too large")
    return value


def _constant(name: str) -> Any:
    raise JSONInputError(f"{name} is not a JSON value")


def depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        stack.extend((child, level) for child in children if isinstance(child, (dict, list)))
    return deepest


def loads(text: str | bytes, *, object_pairs_hook: Callable | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` with bounded numbers and nesting; ``JSONInputError`` (one line) for anything unacceptable."""
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant,
                           object_pairs_hook=object_pairs_hook)
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise JSONInputError(f"lists or objects nested more than {max_depth} deep") from None
    except JSONInputError:
        raise
    except UnicodeDecodeError as exc:
        raise JSONInputError(f"not UTF-8 text (byte {exc.start})") from None
    if depth(value) > max_depth:
        raise JSONInputError(f"lists or objects nested more than {max_depth} deep")
    return value
