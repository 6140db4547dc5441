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
import re
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
        raise UserError(f"{path}: not a regular file" if path.exists() else f"{path}: no such file")
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
    return _check_meta(path, data)


def _check_meta(path: Path, data: dict) -> dict:
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


def _refs_of(key: str, record: Record) -> tuple[tuple, tuple]:
    """What a record refers to: ((field, table, id), ...) and ((field, catalogue item), ...)."""
    refs: list[tuple[str, str, str | None]] = []
    client_id = getattr(record, "client_id", None) if key != "clients" else None
    refs.append(("client_id", "clients", client_id))
    refs.append(("incident_id", "incidents", getattr(record, "incident_id", None)))
    if key == "agreements":
        refs += [("parent_id", "agreements", record.parent_id), ("supersedes", "agreements", record.supersedes)]
    if key == "risk_acceptances":
        refs.append(("review_id", "reviews", record.review_id))
    items: list[tuple[str, str | None]] = []
    if key == "agreements":
        items = [(f"scope.{i}.item", line.item) for i, line in enumerate(record.scope)]
    elif key == "risk_acceptances":
        items = [("item", record.item)]
    elif key == "reviews":
        items = [(f"recommendations.{i}.item", r.item) for i, r in enumerate(record.recommendations)]
    return tuple(r for r in refs if r[2] is not None), tuple(i for i in items if i[1] is not None)


def _check_refs(label: str, refs: tuple, items: tuple, ids, store, catalog) -> None:
    for field, table, value in refs:
        if not _known(table, value, ids, store):
            raise UserError(f"{label}: field '{field}': no {table[:-1].replace('_', ' ')} with id {value!r} in this file or the database")
    for field, item in items:
        if item not in catalog.items:
            raise UserError(f"{label}: field '{field}': {item!r} is not a scope catalogue item id")


def check_record(store: Store, record: Record, label: str) -> None:
    """One record's references (client, parent agreement, review, catalogue items) against the database."""
    key = type(record).TABLE
    _check_references(label, key, record, {table: set() for table in RECORD_TYPES}, store, load_catalog())


def _check_references(label: str, key: str, record: Record, ids, store, catalog) -> None:
    _check_refs(label, *_refs_of(key, record), ids, store, catalog)


def import_file(store: Store, path: Path | str) -> list[Event]:
    """Validate the whole file, then write every changed record in one transaction."""
    if Path(path).suffix.lower() in TABLE_SUFFIXES:
        from .psa import import_exports

        return import_exports(store, [path])[1]
    data = read_file(path)
    records = validate(path, data, store)
    del data
    return store.put_many(records)


def import_count(store: Store, path: Path | str) -> int:
    """``import_file`` for large files: the same all-or-nothing import and errors, returning how many records changed.

    Memory stays near the size of the file, not of everything it becomes: a
    JSON record file is read one record at a time from its text
    (``_stream_json``), each record is validated and kept only as its
    canonical JSON and the ids it refers to, references are checked once
    every id is known, and each record is written and dropped in turn, in
    one transaction. (``import_file`` holds every parsed record, model and
    event at once: 3.5 GiB for a 20,000-client portfolio.)
    """
    import gc

    path = Path(path)
    if path.suffix.lower() == ".csv":
        data = read_file(path)
        records = validate(path, data, store)
        del data
        return _write_models(store, records)
    was_enabled = gc.isenabled()
    gc.disable()  # hundreds of thousands of live objects: every cyclic-GC pass would walk them all again
    try:
        staged = _stage_json(path, store)
        changed = 0
        with store.transaction():
            for key in RECORD_TYPES:
                rows = staged.pop(key)
                for index in range(len(rows)):
                    record_id, record_text = rows[index]
                    rows[index] = None
                    if store.put_text_in_transaction(key, record_id, record_text) is not None:
                        changed += 1
        return changed
    finally:
        if was_enabled:
            gc.enable()


def _write_models(store: Store, records: list) -> int:
    changed = 0
    with store.transaction():
        for index in range(len(records)):
            if store.put_in_transaction(records[index]) is not None:
                changed += 1
            records[index] = None
    return changed


_WS = re.compile(r"[ \t\n\r]*")


class _NotSimple(Exception):
    """The text is not a plain JSON object the streaming reader handles; parse it whole for the exact error."""


def _stream_json(path: Path, text: str, meta: dict):
    """Yield (key, index, record) for each element of the top-level record lists, one at a time.

    Top-level values that are not record lists go into ``meta``. Raises
    ``_NotSimple`` on anything unusual (invalid JSON, a non-object top
    level); the caller then parses the whole text to report it exactly as
    ``import_file`` does. Duplicate keys are refused like there.
    """
    decoder = json.JSONDecoder(object_pairs_hook=_reject_duplicate_keys)
    ws = _WS.match

    def decode(at: int):
        try:
            return decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            raise _NotSimple() from None
        except UserError as exc:
            raise UserError(f"{path}: {exc}") from None

    pos = ws(text, 0).end()
    if text[pos:pos + 1] != "{":
        raise _NotSimple()
    pos = ws(text, pos + 1).end()
    seen: set[str] = set()
    if text[pos:pos + 1] == "}":
        pos += 1
    else:
        while True:
            if text[pos:pos + 1] != '"':
                raise _NotSimple()
            key, pos = decode(pos)
            pos = ws(text, pos).end()
            if text[pos:pos + 1] != ":":
                raise _NotSimple()
            pos = ws(text, pos + 1).end()
            if key in seen:
                raise UserError(f"{path}: key {key!r} appears twice in one object")
            seen.add(key)
            if key in RECORD_TYPES and text[pos:pos + 1] == "[":
                pos = ws(text, pos + 1).end()
                index = 0
                if text[pos:pos + 1] == "]":
                    pos += 1
                else:
                    while True:
                        value, pos = decode(pos)
                        yield key, index, value
                        index += 1
                        pos = ws(text, pos).end()
                        if text[pos:pos + 1] == "]":
                            pos += 1
                            break
                        if text[pos:pos + 1] != ",":
                            raise _NotSimple()
                        pos = ws(text, pos + 1).end()
                meta.setdefault("_lists", set()).add(key)
            else:
                meta[key], pos = decode(pos)
            pos = ws(text, pos).end()
            if text[pos:pos + 1] == ",":
                pos = ws(text, pos + 1).end()
                continue
            if text[pos:pos + 1] == "}":
                pos += 1
                break
            raise _NotSimple()
    if ws(text, pos).end() != len(text):
        raise _NotSimple()


def _stage_json(path: Path, store: Store) -> dict[str, list]:
    """Validate a JSON record file record by record; {table: [(id, canonical JSON), ...]} in file order per table."""
    from datetime import datetime, timedelta, timezone

    from .chain import canonical

    text = _read_text(path)
    catalog = load_catalog()
    ids: dict[str, set[str]] = {key: set() for key in RECORD_TYPES}
    staged: dict[str, list] = {key: [] for key in RECORD_TYPES}
    checks: dict[str, list] = {key: [] for key in RECORD_TYPES}
    first_error: dict[str, UserError] = {}
    meta: dict = {}
    try:
        for key, index, raw in _stream_json(path, text, meta):
            if key in first_error:
                continue
            model = RECORD_TYPES[key]
            where = f"{path}: {key}[{index}]"
            if not isinstance(raw, dict):
                first_error[key] = UserError(f"{where}: each record must be a JSON object")
                continue
            rid = raw.get("id")
            label = f"{where} (id {rid!r})" if isinstance(rid, str) else where
            try:
                record = model.model_validate(raw)
            except ValidationError as exc:
                first_error[key] = UserError(f"{label}: {_describe(exc)}")
                continue
            if record.id in ids[key]:
                first_error[key] = UserError(f"{label}: duplicate id in this file")
                continue
            ids[key].add(record.id)
            refs, items = _refs_of(key, record)
            discovered = record.discovered.at if key == "incidents" else None
            if refs or items or discovered is not None:
                checks[key].append((label, refs, items, discovered))
            staged[key].append((record.id, canonical(record.model_dump(mode="json"))))
    except _NotSimple:
        del text
        _parse_json(path, _read_text(path))  # raises the exact error import_file would
        raise UserError(f"{path}: invalid JSON") from None
    del text
    lists = meta.pop("_lists", set())
    _check_meta(path, {**meta, **{k: [] for k in lists}})
    for key in RECORD_TYPES:
        if key in first_error:
            raise first_error[key]
    latest = datetime.now(timezone.utc) + timedelta(minutes=5)
    for key in RECORD_TYPES:
        for label, refs, items, discovered in checks[key]:
            _check_refs(label, refs, items, ids, store, catalog)
            if discovered is not None and discovered > latest:
                raise UserError(f"{label}: field 'discovered': {discovered.isoformat()} is in the future "
                                "(a clock or time-zone mistake?)")
    return staged


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
    path = Path(path)
    _check_dump_target(store, path)
    data = dump_data(store)
    write_atomically(Path(path), json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n")
    return sum(len(data[t]) for t in RECORD_TYPES)


def _check_dump_target(store: Store, path: Path) -> None:
    """``dump`` may replace an earlier record file, nothing else: 'msptui dump msptui.db' replaced the database
    itself (its whole history) with JSON, and a FIFO, a PDF or another database named by mistake was lost the same
    way."""
    if not (path.exists() or path.is_symlink()):
        return
    db = Path(store.path).resolve()
    if path.resolve() in (db, *(db.with_name(db.name + side) for side in ("-wal", "-shm", "-journal"))):
        raise UserError(f"{path} is the database itself: dump writes a new JSON file; give another name")
    if path.is_symlink() or not path.is_file():
        raise UserError(f"{path} exists and is not a regular file: give the path of a new JSON file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise UserError(f"{path}: cannot read what is there ({exc.strerror}); nothing was written") from None
    if head and not (head.lstrip().startswith(b"{") and b'"format"' in head and b'"msptui"' in head):
        raise UserError(f"{path} exists and is not an msptui record file: refusing to overwrite it; "
                        "choose another name")
