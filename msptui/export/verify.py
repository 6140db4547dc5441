"""The verify stage: ``msptui verify-dossier``, checking a dossier folder offline and against the live database.

Stops at the first discrepancy and names it. A folder is intact when every
file matches SHA256SUMS and the manifest, the signature (if any) verifies, the
events in events.jsonl each match their hash and link where consecutive, and
(given the database) the chain head is still part of its history.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..chain import Event
from ..store import Store
from .collect import FORMAT
from .files import FILE_EVENTS, FILE_JSON, FILE_MANIFEST, FILE_PUBKEY, FILE_SIG, FILE_SUMS, sha256_file


@dataclass
class DossierCheck:
    ok: bool
    problem: str | None = None
    signed: bool = False
    fingerprint: str | None = None
    head: dict | None = None
    events: int = 0
    files: int = 0
    db_checked: bool = False
    db_note: str = ""
    checks: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "ok": self.ok, "problem": self.problem, "signed": self.signed, "public_key_sha256": self.fingerprint,
            "chain_head": self.head, "events": self.events, "files": self.files,
            "db_checked": self.db_checked, "db_note": self.db_note, "checks": self.checks,
        }


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class _Bad(Exception):
    pass


def _check_files(folder: Path, report: DossierCheck) -> dict:
    manifest_path = folder / FILE_MANIFEST
    if not folder.is_dir():
        raise _Bad(f"{folder} is not a folder")
    if not manifest_path.is_file():
        raise _Bad("manifest.json is missing")
    manifest_bytes = manifest_path.read_bytes()
    try:
        manifest = json.loads(manifest_bytes)
        listed = {f["name"]: f for f in manifest["files"]}
        head = manifest["chain_head"]
        signed = bool(manifest["signed"])
    except (ValueError, KeyError, TypeError):
        raise _Bad("manifest.json is not a readable dossier manifest") from None
    if manifest.get("format") != FORMAT + "-manifest":
        raise _Bad("manifest.json is not an msptui dossier manifest")
    for name in listed:
        if not isinstance(name, str) or not _NAME.match(name) or name in (FILE_MANIFEST, FILE_SIG, FILE_SUMS):
            raise _Bad(f"manifest.json lists an invalid file name {name!r}")
    report.signed, report.head = signed, head
    expected = set(listed) | {FILE_MANIFEST, FILE_SUMS} | ({FILE_SIG} if signed else set())
    present = {p.name for p in folder.iterdir()}
    for name in sorted(expected - present):
        raise _Bad(f"{name} is missing (listed in the manifest)")
    for name in sorted(present - expected):
        raise _Bad(f"unexpected file {name!r}: not listed in the manifest (renamed or added after export)")
    for name in sorted(present):
        if not (folder / name).is_file() or (folder / name).is_symlink():
            raise _Bad(f"{name} is not a regular file")

    # SHA256SUMS covers every other file, manifest.json and manifest.sig included
    sums: dict[str, str] = {}
    for line in (folder / FILE_SUMS).read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(r"^([0-9a-f]{64}) [ *](.+)$", line)
        if not m:
            raise _Bad(f"SHA256SUMS has an unreadable line: {line[:80]!r}")
        sums[m.group(2)] = m.group(1)
    if set(sums) != expected - {FILE_SUMS}:
        odd = sorted(set(sums) ^ (expected - {FILE_SUMS}))
        raise _Bad(f"SHA256SUMS does not list exactly the dossier's files (differs on {', '.join(odd)})")
    actual = {name: sha256_file(folder / name) for name in sorted(expected - {FILE_SUMS})}
    for name in sorted(sums):
        if actual[name] != sums[name]:
            raise _Bad(f"{name}: SHA-256 does not match SHA256SUMS (the file was changed)")
    report.checks.append(f"SHA256SUMS: {len(sums)} files match")
    for name, entry in sorted(listed.items()):
        size = (folder / name).stat().st_size
        if size != entry.get("size"):
            raise _Bad(f"{name}: size {size} does not match the manifest ({entry.get('size')})")
        if actual[name] != entry.get("sha256"):
            raise _Bad(f"{name}: SHA-256 does not match the manifest (the file was changed)")
    report.files = len(listed)
    report.checks.append(f"manifest.json: {len(listed)} files match size and SHA-256")

    if signed:
        from .. import keys

        sig = (folder / FILE_SIG).read_bytes()
        pub = (folder / FILE_PUBKEY).read_bytes() if (folder / FILE_PUBKEY).is_file() else b""
        if FILE_PUBKEY not in listed:
            raise _Bad("manifest says signed but public_key.pem is not listed")
        problem = keys.verify_signature(pub, manifest_bytes, sig)
        if problem:
            raise _Bad(problem)
        report.fingerprint = keys.fingerprint(pub)
        claimed = (manifest.get("signature") or {}).get("public_key_sha256")
        if claimed != report.fingerprint:
            raise _Bad("the manifest's public_key_sha256 does not match public_key.pem")
        report.checks.append(f"manifest.sig: valid Ed25519 signature, key {report.fingerprint}")
    else:
        report.checks.append("manifest.sig: none (dossier not signed)")
    return manifest


def _check_slice(folder: Path, manifest: dict, report: DossierCheck) -> list[Event]:
    head = manifest["chain_head"]
    if not isinstance(head, dict) or not isinstance(head.get("id"), int) or not _HEX64.match(str(head.get("hash", ""))):
        raise _Bad("manifest.json: chain_head is malformed")
    try:
        data = json.loads((folder / FILE_JSON).read_text(encoding="utf-8"))
    except ValueError:
        raise _Bad("dossier.json is not valid JSON") from None
    if data.get("chain_head") != head:
        raise _Bad("dossier.json names a different chain head than manifest.json")
    if data.get("incident", {}).get("id") != manifest.get("incident_id"):
        raise _Bad("dossier.json names a different incident than manifest.json")
    events: list[Event] = []
    try:
        raw = (folder / FILE_EVENTS).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise _Bad("events.jsonl is not UTF-8 text") from None
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        try:
            event = Event.from_json(json.loads(line))
        except (ValueError, TypeError, KeyError):
            raise _Bad(f"events.jsonl line {number} is not an event") from None
        if event.compute_hash() != event.hash:
            raise _Bad(f"events.jsonl: event {event.id} does not match its hash (edited)")
        if events and event.id <= events[-1].id:
            raise _Bad(f"events.jsonl: event {event.id} is out of order (after event {events[-1].id})")
        if events and event.id == events[-1].id + 1 and event.prev_hash != events[-1].hash:
            raise _Bad(f"events.jsonl: event {event.id}'s prev_hash does not link to event {events[-1].id}")
        if event.id > head["id"]:
            raise _Bad(f"events.jsonl: event {event.id} is after the chain head (event {head['id']})")
        if event.id == head["id"] and event.hash != head["hash"]:
            raise _Bad("events.jsonl: the head event's hash differs from the manifest's chain head")
        events.append(event)
    if len(events) != manifest.get("chain_slice", {}).get("count"):
        raise _Bad(f"events.jsonl holds {len(events)} events but the manifest says {manifest.get('chain_slice', {}).get('count')}")
    report.events = len(events)
    report.checks.append(f"events.jsonl: {len(events)} events, each hash recomputes, in order")
    return events


def _check_db(store: Store, head: dict, events: list[Event], report: DossierCheck) -> None:
    from ..chain import check_chain

    wanted = {e.id: e for e in events}
    seen: dict[int, Event] = {}
    head_event: Event | None = None

    def upto_head():
        nonlocal head_event
        for e in store.events():
            if e.id > head["id"]:
                return
            if e.id in wanted:
                seen[e.id] = e
            if e.id == head["id"]:
                head_event = e
            yield e

    problem, _last = check_chain(upto_head())
    if head_event is None and problem is None:
        raise _Bad(f"database {store.path}: has no event {head['id']} (the dossier's chain head): history was truncated or this is another database")
    if head_event is not None and head_event.hash != head["hash"]:
        raise _Bad(f"database {store.path}: event {head['id']} no longer has the dossier's head hash: history was rewritten after export")
    if problem is not None:
        raise _Bad(f"database {store.path}: chain broken before the dossier's head ({problem})")
    for event in events:
        live = seen.get(event.id)
        if live is None or live.as_json() != event.as_json():
            raise _Bad(f"database {store.path}: event {event.id} differs from the dossier's copy: history was rewritten after export")
    report.db_checked = True
    report.db_note = f"database {store.path}: chain head event {head['id']} and all {len(events)} slice events match"
    report.checks.append(report.db_note)


def verify_dossier(folder: Path | str, *, store: Store | None = None, db_note: str = "") -> DossierCheck:
    """Check a dossier folder; with ``store``, also against the live DB. Stops at the first discrepancy."""
    folder = Path(folder)
    report = DossierCheck(ok=False)
    try:
        manifest = _check_files(folder, report)
        events = _check_slice(folder, manifest, report)
        if store is not None:
            _check_db(store, manifest["chain_head"], events, report)
        else:
            report.db_note = db_note or "database check not run (no database)"
            report.checks.append(report.db_note)
    except _Bad as exc:
        report.problem = str(exc)
        return report
    report.ok = True
    return report
