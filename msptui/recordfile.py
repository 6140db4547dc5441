"""The record file: what ``import`` reads and ``dump`` writes.

Format (JSON, UTF-8)::

    {"format": "msptui", "version": 1,
     "clients": [...], "agreements": [...], "risk_acceptances": [...],
     "policies": [...], "reviews": [...], "incidents": [...],
     "checklist_items": [...], "evidence": [...], "notes": [...]}

Each list holds records in the shape of the models in ``models.py``. A CSV of
clients (one row per client, as PSA exports give them) is accepted too; list
columns separate values with ';'.

Import is all-or-nothing: every record is validated and every reference
resolved before anything is written, then all changed records are appended
in one transaction. The first problem is reported as one line naming the
file, the record, the field and the reason. Records identical to what is
stored produce no event, so re-importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .catalog import load_catalog
from .chain import Event
from .errors import UserError
from .models import RECORD_TYPES, Record
from . import paths
from .store import Store

FORMAT = "msptui"
VERSION = 1
_META_KEYS = {"format", "version", "source", "reference_date", "generated_at"}
MAX_FILE_BYTES = 256 * 1024 * 1024


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(record)"
    msg = err["msg"].removeprefix("Value error, ")
    return f"field '{loc}': {msg}"


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise UserError(f"key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError(f"{path}: {size} bytes is larger than the {MAX_FILE_BYTES} bytes an import may be")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(f"{path}: not valid UTF-8 at byte {exc.start} (line {line})") from None


def _parse_json(path: Path, text: str) -> dict:
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: the top level must be a JSON object with \"format\": \"{FORMAT}\"")
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise UserError(f"{path}: expected \"format\": \"{FORMAT}\" and \"version\": {VERSION} at the top level")
    unknown = sorted(set(data) - _META_KEYS - set(RECORD_TYPES))
    if unknown:
        raise UserError(f"{path}: unknown top-level key {unknown[0]!r} (expected one of {', '.join(RECORD_TYPES)})")
    for key in RECORD_TYPES:
        if not isinstance(data.get(key, []), list):
            raise UserError(f"{path}: {key!r} must be a list of records")
    return data


_CSV_LISTS = {"countries", "us_states", "data_held", "sectors"}
_CSV_BOOLS = {"public_company", "nydfs_regulated"}


def _csv_clients(path: Path, text: str) -> dict:
    """A PSA-style client CSV → the same structure as a JSON record file."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "id" not in reader.fieldnames:
        raise UserError(f"{path}: a client CSV needs a header row with at least id, name, engagement, home_tz")
    clients = []
    for line_no, row in enumerate(reader, start=2):
        if None in row:
            raise UserError(f"{path}: line {line_no}: more values than header columns")
        record: dict[str, Any] = {}
        for field, value in row.items():
            value = (value or "").strip()
            if value == "":
                continue
            if field in _CSV_LISTS:
                record[field] = [v.strip() for v in value.split(";") if v.strip()]
            elif field in _CSV_BOOLS:
                lowered = value.lower()
                if lowered not in {"true", "false", "yes", "no", "1", "0"}:
                    raise UserError(f"{path}: line {line_no}: field '{field}': expected true or false, got {value!r}")
                record[field] = lowered in {"true", "yes", "1"}
            else:
                record[field] = value
        record["_line"] = line_no
        clients.append(record)
    return {"format": FORMAT, "version": VERSION, "clients": clients}


def read_file(path: Path | str) -> dict:
    path = Path(path)
    text = _read_text(path)
    if path.suffix.lower() == ".csv":
        return _csv_clients(path, text)
    return _parse_json(path, text)


def validate(path: Path | str, data: dict, store: Store | None = None) -> list[Record]:
    """Every record as a model, in dependency order, or a UserError for the first problem."""
    catalog = load_catalog()
    parsed: list[tuple[str, str, Record]] = []
    ids: dict[str, set[str]] = {key: set() for key in RECORD_TYPES}
    # pass 1: every record valid and unique, so references may point anywhere in the file
    for key, model in RECORD_TYPES.items():
        items = data.get(key, [])
        for index, raw in enumerate(items):
            items[index] = None  # the parsed dict is dropped once its model exists (a large import's memory)
            where = f"{path}: line {raw.pop('_line')}" if isinstance(raw, dict) and "_line" in raw else f"{path}: {key}[{index}]"
            if not isinstance(raw, dict):
                raise UserError(f"{where}: each record must be a JSON object")
            rid = raw.get("id")
            label = f"{where} (id {rid!r})" if isinstance(rid, str) else where
            try:
                record = model.model_validate(raw)
            except ValidationError as exc:
                raise UserError(f"{label}: {_describe(exc)}") from None
            if record.id in ids[key]:
                raise UserError(f"{label}: duplicate id in this file")
            ids[key].add(record.id)
            parsed.append((label, key, record))
    # pass 2: references resolve to this file or the database; nothing was discovered in the future
    from datetime import datetime, timedelta, timezone

    latest = datetime.now(timezone.utc) + timedelta(minutes=5)
    for label, key, record in parsed:
        _check_references(label, key, record, ids, store, catalog)
        if key == "incidents" and record.discovered.at > latest:
            raise UserError(f"{label}: field 'discovered': {record.discovered.at.isoformat()} is in the future "
                            "(a clock or time-zone mistake?)")
    return [record for _, _, record in parsed]


def _known(table: str, record_id: str, ids: dict[str, set[str]], store: Store | None) -> bool:
    return record_id in ids[table] or (store is not None and store.exists(table, record_id))


def _check_references(label: str, key: str, record: Record, ids, store, catalog) -> None:
    refs: list[tuple[str, str, str | None]] = []
    client_id = getattr(record, "client_id", None) if key != "clients" else None
    refs.append(("client_id", "clients", client_id))
    refs.append(("incident_id", "incidents", getattr(record, "incident_id", None)))
    if key == "agreements":
        refs += [("parent_id", "agreements", record.parent_id), ("supersedes", "agreements", record.supersedes)]
    if key == "risk_acceptances":
        refs.append(("review_id", "reviews", record.review_id))
    for field, table, value in refs:
        if value is not None and not _known(table, value, ids, store):
            raise UserError(f"{label}: field '{field}': no {table[:-1].replace('_', ' ')} with id {value!r} in this file or the database")
    items: list[tuple[str, str | None]] = []
    if key == "agreements":
        items = [(f"scope.{i}.item", line.item) for i, line in enumerate(record.scope)]
    elif key == "risk_acceptances":
        items = [("item", record.item)]
    elif key == "reviews":
        items = [(f"recommendations.{i}.item", r.item) for i, r in enumerate(record.recommendations)]
    for field, item in items:
        if item is not None and item not in catalog.items:
            raise UserError(f"{label}: field '{field}': {item!r} is not a scope catalogue item id")


def import_file(store: Store, path: Path | str) -> list[Event]:
    """Validate the whole file, then write every changed record in one transaction."""
    data = read_file(path)
    records = validate(path, data, store)
    del data
    return store.put_many(records)


def import_count(store: Store, path: Path | str) -> int:
    """``import_file`` for large files: the same all-or-nothing import, returning only how many records changed.

    Each validated record is released as soon as its event is written and
    no event is kept, so memory holds the validated records once, not
    records, events and payloads together.
    """
    import gc

    # hundreds of thousands of long-lived objects make every cyclic-GC pass walk them all again;
    # nothing here creates reference cycles worth collecting mid-import
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        data = read_file(path)
        records = validate(path, data, store)
        del data
        changed = 0
        with store.transaction():
            for index in range(len(records)):
                if store.put_in_transaction(records[index]) is not None:
                    changed += 1
                records[index] = None
        return changed
    finally:
        if was_enabled:
            gc.enable()


def dump_data(store: Store) -> dict:
    out: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    for table in RECORD_TYPES:
        out[table] = store.raw_records(table)
    return out


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, paths.file_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def dump_file(store: Store, path: Path | str) -> int:
    data = dump_data(store)
    write_atomically(Path(path), json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n")
    return sum(len(data[t]) for t in RECORD_TYPES)
