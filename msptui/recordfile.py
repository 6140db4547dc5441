"""The record file: what ``import`` reads and ``dump`` writes.

Format (JSON, UTF-8)::

    {"format": "msptui", "version": 1,
     "clients": [...], "agreements": [...], "risk_acceptances": [...],
     "policies": [...], "reviews": [...], "incidents": [...],
     "checklist_items": [...], "evidence": [...], "notes": [...]}

Each list holds records in the shape of the models in ``models.py``. A CSV of
clients (a header row of client fields, list columns separating values with
';') and PSA exports are read by ``psa`` (see there).

Import is all-or-nothing: every record is validated and every reference
resolved before anything is written, then all changed records are appended
in one transaction. The first problem is reported as one line naming the
file, the record, the field and the reason. Records identical to what is
stored produce no event, so re-importing the same file changes nothing.
"""

from __future__ import annotations

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
#: an import holds every record in memory (about 25 bytes per byte of a record file, 5 KiB per
#: record): these bounds keep its peak near 1 GiB (benchmarks/import_bench.py)
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_RECORDS = 100_000


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
        raise UserError(f"{path}: {size:,} bytes is larger than the {MAX_FILE_BYTES:,} bytes one import may read "
                        "(it holds every record in memory); split it into several files")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(f"{path}: not valid UTF-8 at byte {exc.start} (line {line})") from None


def _parse_json(path: Path, text: str) -> dict:
    from . import safejson

    try:
        data = safejson.loads(text, object_pairs_hook=_reject_duplicate_keys)  # bounded nesting and numbers
    except safejson.JSONInputError as exc:
        raise UserError(f"{path}: {exc}") from None
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
    total = sum(len(data.get(key, [])) for key in RECORD_TYPES)
    if total > MAX_RECORDS:
        raise UserError(f"{path}: {total:,} records, more than the {MAX_RECORDS:,} one import may hold in memory; "
                        "split it into several files")
    return data


#: file suffixes read as spreadsheet exports (msptui's client CSV or a PSA's), not JSON
TABLE_SUFFIXES = {".csv", ".tsv", ".txt"}


def read_file(path: Path | str) -> dict:
    """A JSON record file as a dict (spreadsheet exports go through ``psa``)."""
    path = Path(path)
    return _parse_json(path, _read_text(path))


def validate(path: Path | str, data: dict, store: Store | None = None) -> list[Record]:
    """Every record as a model, in dependency order, or a UserError for the first problem."""
    catalog = load_catalog()
    parsed: list[tuple[str, str, Record]] = []
    ids: dict[str, set[str]] = {key: set() for key in RECORD_TYPES}
    # pass 1: every record valid and unique, so references may point anywhere in the file
    for key, model in RECORD_TYPES.items():
        for index, raw in enumerate(data.get(key, [])):
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
    # pass 2: references resolve to this file or the database
    for label, key, record in parsed:
        _check_references(label, key, record, ids, store, catalog)
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


def check_record(store: Store, record: Record, label: str) -> None:
    """One record's references (client, parent agreement, review, catalogue items) against the database."""
    key = type(record).TABLE
    _check_references(label, key, record, {table: set() for table in RECORD_TYPES}, store, load_catalog())


def import_file(store: Store, path: Path | str) -> list[Event]:
    """Validate the whole file, then write every changed record in one transaction."""
    if Path(path).suffix.lower() in TABLE_SUFFIXES:
        from .psa import import_exports

        return import_exports(store, [path])[1]
    data = read_file(path)
    records = validate(path, data, store)
    return store.put_many(records)


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
