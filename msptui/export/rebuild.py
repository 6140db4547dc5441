"""Content bound to the chain: rebuild dossier.json from the folder's own events, and the PDF from dossier.json.

``verify-dossier`` replays the full events of events.jsonl into a scratch
SQLite database (``msptui.migrations.migrate`` + ``projection.apply``, the
same code that writes every database), runs the same ``collect`` the export
ran, with the generation instant, zone, marking, signing key and recipients
the signed manifest records, and requires the result to equal dossier.json
byte for byte. Then it renders dossier.json again and requires the PDF's
bytes (rendering is deterministic).

Both depend on more than the events: collect reads msptui's data files (the
rules, the scope catalogue, the VERIS map ...) and the time-zone database;
the PDF depends on the templates, fonts and the WeasyPrint/Pango versions.
The manifest records all of them (``inputs``), so a verifier with different
data files or another renderer says exactly which check it could not run and
why, instead of reporting a misleading mismatch.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

from .. import __version__
from ..chain import Event
from ..paths import DATA_DIR

#: folders of data/ whose files only the PDF reads (hashed under ``renderer``) or nothing in a dossier reads
_RENDER_DIRS = ("templates", "fonts")
_UNREAD = ("psa", "demo.json")


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path, names: list[Path]) -> dict[str, str]:
    return {str(p.relative_to(root.parent)): _sha256_file(p) for p in sorted(names)}


def tzdb_version() -> str:
    """The time-zone database zoneinfo reads (the system's, else the tzdata package)."""
    import zoneinfo

    for folder in zoneinfo.TZPATH:
        marker = Path(folder) / "tzdata.zi"
        try:
            with open(marker, encoding="utf-8") as handle:
                first = handle.readline().strip()
            return f"system {first.removeprefix('# version ').strip()} ({folder})"
        except OSError:
            continue
    try:
        from importlib.metadata import version

        return f"tzdata package {version('tzdata')}"
    except Exception:
        return "unknown"


def content_inputs() -> dict[str, Any]:
    """What dossier.json (and VERIFY.txt) depend on besides the events: msptui's version and content revision,
    its data files, the zone database."""
    from .collect import CONTENT_REVISION

    data = [p for p in DATA_DIR.rglob("*") if p.is_file()
            and p.relative_to(DATA_DIR).parts[0] not in (*_RENDER_DIRS, *_UNREAD)]
    return {"msptui": __version__, "content_revision": CONTENT_REVISION, "tzdb": tzdb_version(),
            "files": _files(DATA_DIR, data)}


def _version(package: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:
        return None


def pango_version() -> str | None:
    try:
        from weasyprint.text.ffi import pango

        number = int(pango.pango_version())
        return f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    except Exception:
        return None


def renderer_inputs() -> dict[str, Any]:
    """What dossier.pdf depends on besides dossier.json: the renderer's versions, templates and fonts."""
    files = [p for d in _RENDER_DIRS for p in (DATA_DIR / d).rglob("*") if p.is_file()]
    return {"msptui": __version__, "weasyprint": _version("weasyprint"), "pydyf": _version("pydyf"),
            "fonttools": _version("fonttools"), "jinja2": _version("jinja2"), "pango": pango_version(),
            "files": _files(DATA_DIR, files)}


def differences(recorded: object, here: dict[str, Any]) -> list[str]:
    """What differs between the inputs a manifest recorded and this machine's (empty: the same)."""
    if not isinstance(recorded, dict):
        return ["the manifest records no inputs"]
    out = []
    for key in sorted(set(recorded) | set(here)):
        if key == "files":
            theirs = recorded.get("files") if isinstance(recorded.get("files"), dict) else {}
            for name in sorted(set(theirs) | set(here["files"])):
                if theirs.get(name) != here["files"].get(name):
                    out.append(f"{name} " + ("is not here" if name not in here["files"] else
                                             "was not there" if name not in theirs else "differs"))
        elif recorded.get(key) != here.get(key):
            out.append(f"{key} {recorded.get(key)} there, {here.get(key)} here")
    return out


# ---------------------------------------------------------------------------
# replay
# ---------------------------------------------------------------------------


def replay(full: list[Event], head: dict) -> "Any":
    """A scratch Store holding the full events and the records they make (other clients' events are absent)."""
    from .. import migrations
    from ..projection import apply, subject_of_payload
    from ..store import Store

    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    migrations.migrate(conn)
    conn.execute("BEGIN")
    for event in full:
        row = event.as_row()
        if event.v == 1:  # encoding 1 names no subject: the index column is derived, as migration 3 did
            row["subject"] = subject_of_payload(event.kind, event.payload)
        conn.execute(
            "INSERT INTO events (id, at, tz, actor, kind, payload, prev_hash, hash, v, operator, subject, body_sha256) "
            "VALUES (:id, :at, :tz, :actor, :kind, :payload, :prev_hash, :hash, :v, :operator, :subject, :body_sha256)",
            row)
        apply(conn, event)
    if not full or full[-1].id != head["id"]:
        # the head is another client's event: a placeholder row, so the replayed head is the dossier's
        conn.execute("INSERT INTO events (id, at, tz, actor, kind, payload, prev_hash, hash, v, subject) "
                     "VALUES (?, '', '', '', 'other.event', '{}', '', ?, 2, '#withheld')", (head["id"], head["hash"]))
    conn.execute("INSERT INTO chain_head (one, event_id, hash) VALUES (1, ?, ?)", (head["id"], head["hash"]))
    conn.execute("COMMIT")
    return Store(Path(":memory:"), conn, mode="ro")


def rebuild_json(full: list[Event], manifest: dict, dump: Callable[[dict], bytes]) -> bytes:
    """dossier.json as the export would write it from these events and the manifest's parameters."""
    from ..timeutil import parse_local
    from .collect import collect

    rebuild = manifest["rebuild"]
    store = replay(full, manifest["chain_head"])
    try:
        data, _events = collect(
            store, manifest["incident_id"], generated_at=parse_local(manifest["generated_at"], "UTC"),
            privileged=bool(rebuild["privileged"]), local_tz=rebuild["local_tz"],
            signing_key=rebuild.get("signing_key"), recipients=rebuild.get("recipients") or [],
        )
    finally:
        store.close()
    return dump(data)


def first_difference(a: object, b: object, path: str = "") -> str:
    """Where two JSON values first differ ("checklist[3].status: 'done' in the file, 'open' from the events")."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in b:
                return f"{path}.{key}".lstrip(".") + ": in the file, not in what the events say"
            if key not in a:
                return f"{path}.{key}".lstrip(".") + ": missing from the file"
            if a[key] != b[key]:
                return first_difference(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        for index, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}[{index}]")
        if len(a) != len(b):
            return f"{path or 'the document'}: {len(a)} entries in the file, {len(b)} from the events"
    where = path.lstrip(".") or "the document"
    return f"{where}: {_short(a)} in the file, {_short(b)} from the events"


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
