"""``msptui edit TYPE ID``: one record as a file a person can read and change in $EDITOR.

The form is the record's JSON, pretty-printed, with ``#`` comment lines: a
header saying how to save or cancel, and above each field drawn from a
vocabulary the values it allows (read from the model's own types, so a new
value in ``models.py`` appears here without touching this file). Lines
starting with ``#`` are ignored when the file is read back, as ``git commit``
does; emptying the file cancels.

Text is shown exactly as stored and safely: JSON escapes control characters,
and every other invisible or direction-changing character (bidi overrides,
zero-width and format characters, line separators) is written as a
``\\uXXXX`` escape, which JSON reads back to the same character: an edit
that changes nothing reproduces the record byte for byte.

What the edit may change is checked like an import: the model's validation,
references (client, parent agreement, catalogue items) and an unchanged id
and client. The act of recording (``record_edit``) re-reads the record inside
the write lock and refuses if someone else changed it since the file was
written, so an edit never silently overwrites another engineer's change.
"""

from __future__ import annotations

import difflib
import enum
import json
import re
import textwrap
import types
import typing
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from .errors import UserError
from .models import MSP_ID, Agreement, Client, InsurancePolicy, Msp, Record, Review, RiskAcceptance, validated
from .store import Store

#: what ``msptui edit`` accepts as TYPE -> the record type (singular, table name, and short forms)
EDITABLE: dict[str, type[Record]] = {}
for _model, _names in ((Client, ("client",)), (Agreement, ("agreement",)), (InsurancePolicy, ("policy",)),
                       (Review, ("review",)), (RiskAcceptance, ("risk", "risk_acceptance")), (Msp, ("msp",))):
    for _name in (*_names, _model.TABLE):
        EDITABLE[_name] = _model
SHOWN_TYPES = "client, agreement, policy, review, risk, msp"
#: fields an edit may not change: other records and the chain refer to them
FROZEN = ("id", "client_id", "owner")
ERROR_MARK = "# ERROR: "
_INVISIBLE = re.compile("[\u0080-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
                        "\U000e0000-\U000e007f]")
_KEY_LINE = re.compile(r'^(\s*)"([A-Za-z_][A-Za-z0-9_]*)": ')


def model_for(type_name: str) -> type[Record]:
    model = EDITABLE.get((type_name or "").strip().lower())
    if model is None:
        raise UserError(f"TYPE: {type_name[:40]!r} cannot be edited; expected one of: {SHOWN_TYPES}")
    return model


def load(store: Store, model: type[Record], record_id: str | None) -> Record:
    if model is Msp:
        record_id = record_id or MSP_ID
    if not record_id:
        raise UserError(f"ID: give the id of the {model.LABEL} to edit")
    record = store.get(model, record_id)
    if record is None:
        if model is Msp:
            raise UserError("no MSP record yet: create it with msptui msp set --name NAME")
        raise UserError(f"ID: no {model.LABEL} with id {record_id!r}")
    return record


# ---------------------------------------------------------------------------
# the file
# ---------------------------------------------------------------------------


def _escape(match: re.Match) -> str:
    code = ord(match.group(0))
    if code > 0xFFFF:  # a JSON escape of an astral character is its surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def to_json(data: dict) -> str:
    """The record as indented JSON whose every character is visible (invisible ones escaped)."""
    return _INVISIBLE.sub(_escape, json.dumps(data, indent=2, ensure_ascii=False))


def _allowed(annotation: Any) -> str | None:
    """What a field allows, in words, from its type (None: free text or a number)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _allowed(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = _allowed(options[0]) if len(options) == 1 else None
        return f"{inner}, or null" if inner else None
    if origin is list:
        inner = _allowed(typing.get_args(annotation)[0])
        return f"a list, each {inner}" if inner else None
    if origin is typing.Literal:
        return "one of " + ", ".join(str(v) for v in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in annotation)
    if annotation is bool:
        return "true or false"
    if annotation is date:
        return "a date, YYYY-MM-DD"
    if annotation is datetime:
        return "an instant with its UTC offset, e.g. 2025-03-01T14:00:00Z"
    return None


def _bounds(info: Any) -> str | None:
    """'a whole number from 7 to 730' from a field's ge/le constraints."""
    low = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), None)
    if info.annotation is not int or (low is None and high is None):
        return None
    return f"a whole number from {low} to {high}" if high is not None else f"a whole number, at least {low}"


def _shape(annotation: Any) -> str | None:
    """What one entry of a list of parts looks like: 'a list of {"name": text, "role": one of ...}'."""
    if typing.get_origin(annotation) is not list:
        return None
    parts = _parts(annotation)
    if len(parts) != 1:
        return None
    fields = []
    for name, info in parts[0].model_fields.items():
        if name == "item":
            words = "a scope catalogue id"
        else:
            words = _allowed(info.annotation) or _bounds(info) or _kind(info.annotation)
        fields.append(f'"{name}": {words}')
    return "a list of {" + "; ".join(fields) + "}"


def _kind(annotation: Any) -> str:
    """'text', 'a number', 'text or null' ... for a field with no vocabulary."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (_kind(options[0]) if len(options) == 1 else "a value") + " or null"
    return {str: "text", int: "a number", bool: "true or false"}.get(annotation, "an object")


def _parts(annotation: Any) -> list[type[BaseModel]]:
    """Nested record parts inside a field's type (Signature, list[ScopeLine] ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [part for arg in typing.get_args(annotation) for part in _parts(arg)]


def field_notes(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> the allowed values, for the model and its parts (first meaning of a name wins)."""
    notes: dict[str, str] = {}
    pending = [model]
    seen: set[type] = set()
    while pending:
        current = pending.pop(0)
        if current in seen:
            continue
        seen.add(current)
        for name, info in current.model_fields.items():
            annotation = info.annotation
            words = _allowed(annotation) or _bounds(info) or _shape(annotation)
            if name in ("item",):
                from .catalog import load_catalog

                words = "a scope catalogue id (msptui catalog): " + ", ".join(load_catalog().items)
            elif name in ("home_tz", "tz"):
                words = "an IANA time zone, e.g. America/New_York"
            elif name in ("countries",):
                words = "ISO 3166-1 country codes, e.g. [\"US\", \"GB\"]"
            elif name in ("us_states",):
                words = "US state codes, e.g. [\"NY\", \"CA\"]"
            elif name in ("currency",):
                words = "an ISO 4217 currency code, e.g. USD"
            elif name == "sha256":
                words = "the file's SHA-256 (64 hex digits)"
            if words and name not in notes and name not in FROZEN:
                notes[name] = words
            pending.extend(_parts(annotation))
    return notes


def render(record: Record, *, error: str | None = None, body: str | None = None) -> str:
    """The file the editor opens: header comments, then the record with the allowed values above its fields."""
    model = type(record)
    head = [
        f"# Editing {model.LABEL} {record.id!r}. Lines starting with '#' are ignored.",
        "# Save and quit: the change is checked, shown to you, and recorded only if you say yes.",
        "# Quit without saving, or delete everything, to cancel. The id, client and owner cannot change.",
    ]
    if isinstance(record, Agreement) and record.signature.status != "unsigned":
        head.append("# This agreement is signed: correct here only the record of what was signed; "
                    "new terms are an amendment.")
    if body is None:
        notes = field_notes(model)
        done: set[str] = set()
        lines = []
        for line in to_json(record.model_dump(mode="json")).split("\n"):
            key = _KEY_LINE.match(line)
            if key and key.group(2) in notes and key.group(2) not in done:
                done.add(key.group(2))
                indent = key.group(1)
                wrapped = textwrap.wrap(f"{key.group(2)}: {notes[key.group(2)]}", width=max(40, 78 - len(indent)))
                lines.extend(f"{indent}# {w}" for w in wrapped)
            lines.append(line)
        body = "\n".join(lines) + "\n"
    errors = [f"{ERROR_MARK}{line}" for line in (error or "").splitlines()]
    if errors:
        errors.append("# Fix it below and save again (saving it unchanged, or quitting without saving, gives up).")
    return "\n".join([*errors, *head, ""]) + _without_header(body)


def _without_header(text: str) -> str:
    """The user's text without the error and header lines this module put on top."""
    lines = text.split("\n")
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines)


def content(text: str) -> str:
    """The file without its comment lines (kept as blank lines, so JSON errors keep their line numbers)."""
    return "\n".join("" if line.lstrip().startswith("#") else line for line in text.split("\n"))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise UserError(f"field {key!r} appears twice")
        seen[key] = value
    return seen


def parse(text: str) -> dict | None:
    """The edited record as data; None if the file was emptied (cancel). UserError names the line."""
    body = content(text)
    if not body.strip():
        return None
    try:
        data = json.loads(body, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise UserError(f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise UserError("the file must hold one JSON object: { ... }")
    return data


def check(store: Store, original: Record, data: dict) -> Record:
    """The edited record, validated like an import; UserError naming the field otherwise."""
    model = type(original)
    before = original.model_dump(mode="json")
    for name in FROZEN:
        if name in before and data.get(name) != before[name]:
            raise UserError(f"{name}: cannot be changed in an edit (it is {before[name]!r}; other records and the "
                            "history refer to it)")
    record = validated(model, data)
    from .recordfile import check_record

    check_record(store, record, model.LABEL)
    return record


def diff(before: Record, after: Record) -> str:
    """A unified diff of the two versions (as the file shows them)."""
    old = to_json(before.model_dump(mode="json")).split("\n")
    new = to_json(after.model_dump(mode="json")).split("\n")
    return "\n".join(difflib.unified_diff(old, new, "on record", "edited", lineterm="", n=2))


def visible_line(text: str) -> str:
    from .literal import visible

    return visible(text, keep_newlines=False)


def same(a: Record, b: Record) -> bool:
    return a.model_dump(mode="json") == b.model_dump(mode="json")


def record_edit(store: Store, original: Record, edited: Record) -> bool:
    """Record the edited version (one event) unless the record changed since the file was written."""
    with store.transaction():
        current = store.get(type(original), original.id)
        if current is None or not same(current, original):
            raise UserError(f"{type(original).LABEL} {original.id!r} was changed by someone else while you edited it; "
                            "nothing recorded: run msptui edit again to start from the new version")
        return store.put_in_transaction(edited) is not None
