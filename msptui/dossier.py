"""The incident dossier: what the MSP was contracted to do, and what it did.

``export`` writes one folder a lawyer can read and an expert can verify
offline::

    <base>/<client>/<incident>/<UTC timestamp>/
        dossier.pdf      the readable dossier (rendered by msptui.dossier_render)
        dossier.json     the same content as data
        events.jsonl     the chain slice: every event of this incident's records
                         and of the client records it cites, with hashes
        VERIFY.txt       how to check all of this with stock tools
        public_key.pem   (signed dossiers) the MSP's Ed25519 public key
        manifest.json    size and SHA-256 of every file above, the chain head
        manifest.sig     (signed dossiers) Ed25519 signature of manifest.json
        SHA256SUMS       for ``sha256sum -c SHA256SUMS``

Design rules:

* Everything shown is read inside one SQLite read transaction, so the chain
  head named on the cover is exactly the state the dossier describes.
* Wording is factual (where a scope state comes from, who did what when);
  the dossier never states a legal conclusion.
* The folder is built beside its target under a hidden temporary name and
  renamed into place: a crash leaves no half-written dossier.
* No wall clock reaches the output: ``generated_at`` is passed in, so the same
  data and timestamp give byte-identical files.
* WeasyPrint runs in a child process (``export_in_child``) so the TUI stays
  responsive; this module never imports it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, get_args

from . import __version__, environment, leftovers, paths
from .coverage import coverage_rows, state_text
from .chain import Event
from .errors import UserError
from .models import (
    ClauseKind,
    Agreement,
    ChecklistItem,
    Client,
    Evidence,
    Incident,
    InsurancePolicy,
    Note,
    Review,
    RiskAcceptance,
)
from .picture import STATE_ORDER, liability_picture
from .scope import scope_as_of
from .store import Store
from .timeutil import fmt_local_and_utc

Progress = Callable[[str], None]

FORMAT = "msptui-dossier"
FORMAT_VERSION = 1
STAGES = ("collect", "render", "write", "sign", "done")

MARKING = "Confidential"
MARKING_PRIVILEGED = "Privileged & confidential \u2014 prepared at the direction of counsel"


#: clauses are quoted in the order the ClauseKind vocabulary lists them (liability cap first)
CLAUSE_ORDER = list(get_args(ClauseKind))

TYPE_LABEL = {
    "clients": "client record",
    "agreements": "agreement",
    "risk_acceptances": "risk acceptance",
    "policies": "insurance policy",
    "reviews": "business review",
    "incidents": "incident",
    "checklist_items": "checklist item",
    "evidence": "evidence item",
    "notes": "note",
}

FILE_PDF = "dossier.pdf"
FILE_JSON = "dossier.json"
FILE_EVENTS = "events.jsonl"
FILE_VERIFY = "VERIFY.txt"
FILE_PUBKEY = "public_key.pem"
FILE_MANIFEST = "manifest.json"
FILE_SIG = "manifest.sig"
FILE_SUMS = "SHA256SUMS"


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


def utc_text(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _when(dt: datetime | None, tz: str | None) -> str:
    if dt is None:
        return ""
    try:
        return fmt_local_and_utc(dt, tz)
    except ValueError:
        return fmt_local_and_utc(dt, "UTC")


def _short(value: Any, limit: int = 160) -> str:
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def folder_stamp(generated_at: datetime) -> str:
    return generated_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# collect: everything the dossier says, as data
# ---------------------------------------------------------------------------


def _diff(old: dict | None, new: dict) -> str:
    if old is None:
        return ""
    parts = []
    for key in new:
        if key in ("updated_at",) or old.get(key) == new.get(key):
            continue
        before, after = old.get(key), new.get(key)
        if isinstance(before, list) and isinstance(after, list) and after[: len(before)] == before:
            added = after[len(before):]
            parts.append(f"{key} added: " + "; ".join(_short(a, 300) for a in added))
        else:
            parts.append(f"{key}: {_short(before, 120)} \u2192 {_short(after, 300)}")
    for key in old:
        if key not in new:
            parts.append(f"{key} removed")
    return "; ".join(parts) if parts else "no field changed"


def _event_text(event: Event, previous: dict | None) -> str:
    table, _, action = event.kind.partition(".")
    label = TYPE_LABEL.get(table, table)
    record_id = event.payload.get("id", "")
    if action == "delete":
        return f"deleted {label} {record_id}"
    if action != "put":
        return f"{event.kind}: {_short(event.payload, 300)}"
    record = event.payload.get("record", {})
    if previous is None:
        extra = ""
        if table == "checklist_items":
            extra = f": {record.get('title', '')} (status {record.get('status')})"
        elif table == "evidence":
            extra = f": {record.get('name', '')} sha256 {record.get('sha256', '')}"
        elif table == "incidents":
            extra = f": {record.get('category')} \u2014 {_short(record.get('summary', ''), 300)}"
        elif table == "notes":
            extra = f" by {record.get('author', '')}"
        return f"created {label} {record_id}{extra}"
    return f"changed {label} {record_id}: {_diff(previous, record)}"


def _slice(store: Store, incident_id: str, client_id: str, policy_ids: set[str]) -> list[Event]:
    """Every event of this incident's records and of the client records the dossier cites, in id order."""
    incident_tables = {"incidents", "checklist_items", "evidence", "notes"}
    client_tables = {"agreements", "risk_acceptances", "reviews"}
    wanted: set[tuple[str, str]] = set()
    out = []
    for event in store.events():
        payload = event.payload
        table, record_id = payload.get("type"), payload.get("id")
        record = payload.get("record") if isinstance(payload.get("record"), dict) else None
        take = False
        if table is not None and (table, record_id) in wanted:
            take = True
        elif record is not None:
            if table == "incidents":
                take = record_id == incident_id
            elif table in incident_tables:
                take = record.get("incident_id") == incident_id
            elif table == "clients":
                take = record_id == client_id
            elif table in client_tables:
                take = record.get("client_id") == client_id
            elif table == "policies":
                take = record_id in policy_ids
        elif table is None and payload.get("incident_id") == incident_id:
            take = True
        elif event.kind == "review_pack.printed" and payload.get("client_id") == client_id:
            take = True  # written education handed to the client: part of the review history
        if take:
            if table is not None:
                wanted.add((table, record_id))
            out.append(event)
    return out


def _item_row(item: ChecklistItem, created: Event | None, last: Event | None, tz: str) -> dict:
    row = item.model_dump(mode="json")
    row["due_text"] = _when(item.due, tz)
    row["target_text"] = _when(item.target, tz)
    row["updated_text"] = _when(item.updated_at, tz)
    row["created_by"] = created.actor if created else None
    row["created_text"] = _when(_parse_at(created.at), tz) if created else ""
    if item.updated_by and item.updated_at:
        row["who_when"] = f"{item.updated_by}, {row['updated_text']}"
    elif created:
        row["who_when"] = f"not updated since created by {created.actor}, {row['created_text']}"
    else:
        row["who_when"] = "no record of who or when"
    return row


def collect(
    store: Store,
    incident_id: str,
    *,
    generated_at: datetime,
    privileged: bool = False,
    local_tz: str | None = None,
) -> tuple[dict, list[Event]]:
    """Everything the dossier shows (a JSON-ready dict) and the chain slice, read in one snapshot."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be an aware datetime")
    local_tz = local_tz or environment.local_zone()
    store.conn.execute("BEGIN")
    try:
        return _collect(store, incident_id, generated_at=generated_at, privileged=privileged, local_tz=local_tz)
    finally:
        store.conn.execute("COMMIT")


def _collect(store: Store, incident_id: str, *, generated_at: datetime, privileged: bool, local_tz: str) -> tuple[dict, list[Event]]:
    incident = store.get(Incident, incident_id)
    if incident is None:
        raise UserError(f"no incident with id {incident_id!r} (see 'msptui incidents')")
    client = store.get(Client, incident.client_id)
    if client is None:
        raise UserError(f"incident {incident_id!r} names client {incident.client_id!r}, which is not on record")
    head_id, head_hash = store.head()
    tz = client.home_tz
    at = incident.discovered.at
    picture = liability_picture(store, client.id, at)
    agreements = store.all(Agreement, client_id=client.id)
    acceptances = store.all(RiskAcceptance, client_id=client.id)
    reviews = store.all(Review, client_id=client.id)
    scope = scope_as_of(client, agreements, at, acceptances=acceptances)
    policies = [p for p in store.all(InsurancePolicy) if p.owner == "msp" or p.client_id == client.id]
    items = sorted(store.all(ChecklistItem, incident_id=incident.id), key=lambda i: (i.order, i.id))
    evidence = store.all(Evidence, incident_id=incident.id)
    notes = store.all(Note, incident_id=incident.id)

    events = _slice(store, incident.id, client.id, {p.id for p in policies})
    first_event: dict[tuple[str, str], Event] = {}
    last_event: dict[tuple[str, str], Event] = {}
    for e in events:
        key = (e.payload.get("type"), e.payload.get("id"))
        first_event.setdefault(key, e)
        last_event[key] = e

    # -- contractual position ------------------------------------------------
    basis, coverage = coverage_rows(incident.category, scope, reviews, acceptances)
    in_force_ids = [a["id"] for a in picture["agreements_in_force"]]
    clauses = []
    for a in picture["agreements_in_force"]:
        for c in a["clauses"]:
            clauses.append({"agreement_id": a["id"], "agreement_title": a["title"], "version": a["version"],
                            "signature": a["signature"], **c})
    clauses.sort(key=lambda c: (CLAUSE_ORDER.index(c["kind"]) if c["kind"] in CLAUSE_ORDER else 99, in_force_ids.index(c["agreement_id"])))

    appendix = []
    for state in STATE_ORDER:
        for entry in sorted((e for e in scope.values() if e.state == state), key=lambda e: (e.category, e.label)):
            appendix.append({"item": entry.item, "label": entry.label, "category": entry.category,
                             "security_relevant": entry.security_relevant, "state": entry.state,
                             "state_text": state_text(entry), "clause": entry.clause, "basis": entry.describe()})

    # -- what was done ---------------------------------------------------------
    item_rows = [_item_row(i, first_event.get(("checklist_items", i.id)), last_event.get(("checklist_items", i.id)), tz) for i in items]
    insurance_items = [r for r in item_rows if r["section"] == "insurance"]
    consents = [r for r in item_rows if "consent" in (r["step"] + " " + r["title"]).lower()]
    not_done = [
        {"id": r["id"], "title": r["title"], "rule": r["rule"], "reason": r["reason"], "updated_by": r["updated_by"],
         "updated_text": r["updated_text"], "section": r["section"]}
        for r in item_rows if r["status"] == "not_applicable"
    ]
    assessment = [a.model_dump(mode="json") if hasattr(a, "model_dump") else dict(a) for a in getattr(incident, "assessment", []) or []]
    for a in assessment:
        for key in ("due", "target"):
            a[f"{key}_text"] = _when(_parse_at(a[key]), tz) if a.get(key) else ""

    evidence_rows = []
    for ev in sorted(evidence, key=lambda e: (e.acquired.at, e.id)):
        row = ev.model_dump(mode="json")
        row["acquired_text"] = _when(ev.acquired.at, ev.acquired.tz)
        row["custody"] = [{**c.model_dump(mode="json"), "at_text": _when(c.at, ev.acquired.tz)} for c in ev.custody]
        evidence_rows.append(row)

    # -- timeline: notes and every event of this incident's records -------------
    timeline: list[tuple[tuple, dict]] = []
    previous: dict[tuple[str, str], dict] = {}
    note_events: dict[str, Event] = {}
    for e in events:
        table = e.payload.get("type")
        key = (table, e.payload.get("id"))
        record = e.payload.get("record") if isinstance(e.payload.get("record"), dict) else None
        # a note's creation is shown once, as the note itself (with its event number)
        if table == "notes" and record is not None and key not in previous:
            note_events[e.payload.get("id")] = e
        elif table in ("incidents", "checklist_items", "evidence", "notes") or table is None:
            instant = _parse_at(e.at)
            timeline.append(((instant, 1, e.id), {
                "kind": "event", "event_id": e.id, "at": utc_text(instant), "at_text": _when(instant, e.tz),
                "actor": e.actor, "text": _event_text(e, previous.get(key)),
            }))
        if record is not None:
            previous[key] = record
    for n in notes:
        recorded = note_events.get(n.id)
        timeline.append(((n.at.at, 0, 0), {
            "kind": "note", "note_id": n.id, "at": utc_text(n.at.at), "at_text": _when(n.at.at, n.at.tz),
            "actor": n.author, "text": n.text,
            "event_id": recorded.id if recorded else None,
            "recorded_text": (f"recorded by {recorded.actor}, {_when(_parse_at(recorded.at), recorded.tz)}" if recorded else ""),
        }))
    timeline.sort(key=lambda pair: pair[0])

    reviews_rows = []
    for r in sorted(reviews, key=lambda r: (r.held_on, r.id)):
        reviews_rows.append(r.model_dump(mode="json"))
    review_packs = [
        {"event_id": e.id, "at_text": _when(_parse_at(e.at), e.tz), "actor": e.actor,
         "file_name": e.payload.get("file_name"), "sha256": e.payload.get("sha256")}
        for e in events if e.kind == "review_pack.printed"
    ]
    acceptance_rows = []
    for a in sorted(acceptances, key=lambda a: (a.recommended_on, a.id)):
        row = a.model_dump(mode="json")
        row["signed"] = a.acknowledgement is not None
        acceptance_rows.append(row)

    generated_utc = generated_at.astimezone(timezone.utc)
    data: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": {"name": "msptui", "version": __version__},
        "generated_at": utc_text(generated_utc),
        "generated_at_text": _when(generated_utc, local_tz),
        "generated_at_client_text": _when(generated_utc, tz),
        "generated_tz": local_tz,
        "privileged": privileged,
        "marking": MARKING_PRIVILEGED if privileged else MARKING,
        "chain_head": {"id": head_id, "hash": head_hash},
        "chain_slice": {"count": len(events), "first_id": events[0].id if events else None,
                        "last_id": events[-1].id if events else None, "file": FILE_EVENTS},
        "client": client.model_dump(mode="json"),
        "incident": {
            **incident.model_dump(mode="json"),
            "discovered_text": _when(incident.discovered.at, incident.discovered.tz),
            "discovered_client_text": _when(incident.discovered.at, tz),
        },
        "contract": {
            "as_of": picture["as_of"],
            "as_of_local_date": picture["as_of_local_date"],
            "agreements_in_force": picture["agreements_in_force"],
            "agreements": picture["agreements"],
            "coverage_basis": basis,
            "coverage": coverage,
            "clauses": clauses,
            "scope": appendix,
        },
        "insurance": {
            "client": picture["insurance"]["client"],
            "msp": picture["insurance"]["msp"],
            "notifications": insurance_items,
            "consents": consents,
        },
        "reviews": reviews_rows,
        "review_packs": review_packs,
        "risk_acceptances": acceptance_rows,
        "checklist": item_rows,
        "obligations": assessment,
        "decisions_not_to_act": not_done,
        "evidence": evidence_rows,
        "timeline": [entry for _, entry in timeline],
    }
    return data, events


# ---------------------------------------------------------------------------
# files: manifest, sums, signature, VERIFY.txt
# ---------------------------------------------------------------------------


def _dump_json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def events_jsonl(events: Iterable[Event]) -> bytes:
    """One event per line, ASCII-only JSON: no U+2028-style character can split a line for any reader."""
    return "".join(json.dumps(e.as_json(), ensure_ascii=True, sort_keys=True, separators=(",", ":")) + "\n" for e in events).encode("ascii")


def verify_text(data: dict, *, signed: bool, fingerprint: str | None) -> str:
    head = data["chain_head"]
    lines = [
        "HOW TO VERIFY THIS DOSSIER",
        "==========================",
        "",
        f"Client:    {data['client']['id']}",
        f"Incident:  {data['incident']['id']}",
        f"Generated: {data['generated_at']} by msptui {data['generator']['version']}",
        f"Event chain head at export: event {head['id']}, SHA-256 {head['hash']}",
    ]
    if signed:
        lines.append(f"Signing key fingerprint (SHA-256 of the raw Ed25519 public key): {fingerprint}")
    lines += [
        "",
        "Publish or send the chain head and the key fingerprint above separately (for",
        "example in the covering email to counsel): a later rewrite of the MSP's records",
        "or a substituted key can then be detected by anyone.",
        "",
        "1. File integrity (any Unix shell; on macOS use 'shasum -a 256 -c'):",
        "",
        "     cd <this folder>",
        "     sha256sum -c SHA256SUMS",
        "",
        "   Every line must say OK. manifest.json lists the size and SHA-256 of every",
        "   other file and the chain head; SHA256SUMS covers manifest.json too.",
        "",
    ]
    if signed:
        lines += [
            "2. Signature (OpenSSL 1.1.1 or later): manifest.sig is a raw Ed25519",
            "   signature of the exact bytes of manifest.json.",
            "",
            "     openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in manifest.json -sigfile manifest.sig",
            "",
            "   It must print 'Signature Verified Successfully'. Check that the key",
            "   fingerprint matches the one the MSP published:",
            "",
            "     openssl pkey -pubin -in public_key.pem -outform DER | tail -c 32 | sha256sum",
            "",
        ]
    else:
        lines += [
            "2. Signature: this dossier is NOT signed (no signing key was configured when",
            "   it was exported). Its integrity rests on the hashes and the chain head",
            "   published out of band.",
            "",
        ]
    lines += [
        "3. Event chain: events.jsonl holds, one JSON object per line, every event that",
        "   created or changed this incident's records and the client records the",
        "   dossier cites. Each event's hash is SHA-256 over the canonical JSON (keys",
        "   sorted, no spaces, UTF-8) of its fields id, at, tz, actor, kind, payload,",
        "   prev_hash. Where two events are consecutive (ids n and n+1), the second's",
        "   prev_hash equals the first's hash.",
        "",
        "4. All of the above, plus a check against the MSP's live database (the chain",
        "   head above must still be part of its history, and every event in",
        "   events.jsonl must match it):",
        "",
        "     msptui verify-dossier <this folder>",
        "",
        "   Exit status 0 means intact; 1 prints the first discrepancy.",
        "",
    ]
    return "\n".join(lines)


def build_manifest(data: dict, files: dict[str, bytes], *, signed: bool, fingerprint: str | None) -> dict:
    return {
        "format": FORMAT + "-manifest",
        "format_version": FORMAT_VERSION,
        "generator": f"msptui {__version__}",
        "generated_at": data["generated_at"],
        "client_id": data["client"]["id"],
        "incident_id": data["incident"]["id"],
        "chain_head": data["chain_head"],
        "chain_slice": data["chain_slice"],
        "signed": signed,
        "signature": (
            {"algorithm": "Ed25519", "file": FILE_SIG, "public_key": FILE_PUBKEY, "public_key_sha256": fingerprint,
             "over": "the exact bytes of manifest.json"} if signed else None
        ),
        "files": [{"name": name, "size": len(body), "sha256": sha256_bytes(body)} for name, body in sorted(files.items())],
        "not_listed": "manifest.json, manifest.sig and SHA256SUMS (SHA256SUMS covers manifest.json and manifest.sig)",
    }


def sha256sums(files: dict[str, bytes]) -> bytes:
    return "".join(f"{sha256_bytes(body)}  {name}\n" for name, body in sorted(files.items())).encode("ascii")


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------


def target_folder(base: Path, client_id: str, incident_id: str, generated_at: datetime) -> Path:
    return Path(base) / client_id / incident_id / folder_stamp(generated_at)


def _write_file(folder: Path, name: str, body: bytes) -> None:
    path = folder / name
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, paths.file_mode())
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mkdirs(path: Path) -> None:
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=paths.dir_mode())
        except FileExistsError:
            pass


def render(data: dict) -> bytes:
    """The PDF bytes (imports WeasyPrint: call only in the child or in tests/benchmarks)."""
    from .dossier_render import render_pdf

    pdf, _report = render_pdf(data)
    return pdf


def export(
    store: Store,
    incident_id: str,
    *,
    out_dir: Path | str | None = None,
    generated_at: datetime | None = None,
    privileged: bool = False,
    progress: Progress | None = None,
    local_tz: str | None = None,
    sign: bool | None = None,
    renderer: Callable[[dict], bytes] | None = None,
    on_tmp: Callable[[Path], None] | None = None,
) -> Path:
    """Write the dossier folder and return its path. ``sign=None`` signs when a key is configured."""
    from . import keys

    progress = progress or (lambda stage: None)
    generated_at = (generated_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    base = Path(out_dir) if out_dir is not None else paths.exports_dir()
    if sign is None:
        sign = keys.configured()

    progress("collect")
    data, events = collect(store, incident_id, generated_at=generated_at, privileged=privileged, local_tz=local_tz)
    target = target_folder(base, data["client"]["id"], data["incident"]["id"], generated_at)
    if target.exists():
        raise UserError(f"{target} already exists: an export with this timestamp was already written")

    progress("render")
    pdf = (renderer or render)(data)

    progress("write")
    fingerprint = None
    public_pem = None
    if sign:
        public_pem = keys.info().public_pem
        fingerprint = keys.fingerprint(public_pem)
    files: dict[str, bytes] = {
        FILE_PDF: pdf,
        FILE_JSON: _dump_json(data),
        FILE_EVENTS: events_jsonl(events),
        FILE_VERIFY: verify_text(data, signed=sign, fingerprint=fingerprint).encode("utf-8"),
    }
    if sign:
        files[FILE_PUBKEY] = public_pem
    manifest_bytes = _dump_json(build_manifest(data, files, signed=sign, fingerprint=fingerprint))
    listed = {**files, FILE_MANIFEST: manifest_bytes}
    if sign:
        progress("sign")
        signature, signer_pem = keys.sign(manifest_bytes)
        if signer_pem != public_pem:
            raise UserError("the signing key changed during the export; run it again")
        listed[FILE_SIG] = signature
    listed[FILE_SUMS] = sha256sums(listed)

    _mkdirs(target.parent)
    leftovers.sweep(target.parent)  # hidden half-written dossiers left by a killed export
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    leftovers.claim(tmp)  # held until this process ends, so a concurrent sweep leaves it alone
    if on_tmp:
        on_tmp(tmp)
    try:
        os.chmod(tmp, paths.dir_mode())
        for name, body in listed.items():
            _write_file(tmp, name, body)
        _fsync_dir(tmp)
        if target.exists():
            raise UserError(f"{target} already exists: an export with this timestamp was already written")
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(target.parent)
    progress("done")
    return target


# ---------------------------------------------------------------------------
# export in a child process (for the TUI and the CLI)
# ---------------------------------------------------------------------------


class ExportFailed(UserError):
    """The child process failed, timed out or was cancelled; nothing was written."""


def export_in_child(
    db_path: Path | str,
    incident_id: str,
    out_dir: Path | str | None = None,
    privileged: bool = False,
    progress: Progress | None = None,
    timeout: float = 300,
    *,
    generated_at: datetime | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Path:
    """Run ``export`` in ``python -m msptui.dossier_render`` and return the folder.

    ``progress`` receives stage names ("collect", "render", "write", "sign",
    "done") as the child reaches them. On timeout or cancellation the child is
    killed and its temporary folder removed; the target never appears.
    """
    request = {
        "db": str(Path(db_path).resolve()),
        "incident_id": incident_id,
        "out_dir": str(Path(out_dir).resolve()) if out_dir is not None else None,
        "privileged": privileged,
        "generated_at": utc_text(generated_at) if generated_at else None,
    }
    result = run_child(request, progress=progress, timeout=timeout, cancelled=cancelled)
    return Path(result["path"])


def _remove_tmp(tmp: str) -> None:
    """Remove a temporary folder or file the child announced."""
    path = Path(tmp)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except OSError:
            pass


def run_child(
    request: dict,
    *,
    progress: Progress | None = None,
    timeout: float = 300,
    cancelled: Callable[[], bool] | None = None,
) -> dict:
    """Send ``request`` to ``python -m msptui.dossier_render`` and return its final ``{"path": ...}`` message.

    Stage names go to ``progress``; on timeout, cancellation or failure the
    child is killed and every temporary folder or file it announced removed.
    """
    import selectors

    env = leftovers.child_env()  # the child dies with this process (leftovers.die_with_parent)
    env["PYTHONPATH"] = os.pathsep.join([str(paths.ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    env.setdefault("PYTHONUNBUFFERED", "1")
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(
            [sys.executable, "-m", "msptui.dossier_render"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errfile, env=env, cwd=str(paths.ROOT),
        )
        assert proc.stdin and proc.stdout
        proc.stdin.write(json.dumps(request).encode("utf-8"))
        proc.stdin.close()
        deadline = time.monotonic() + timeout
        tmp_dirs: list[str] = []
        result: dict | None = None
        buffer = b""
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        failure: str | None = None
        try:
            eof = False
            while not eof:
                if cancelled is not None and cancelled():
                    failure = "export cancelled; nothing was written"
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    failure = f"export timed out after {timeout:g} s; nothing was written"
                    break
                if not sel.select(timeout=min(remaining, 0.1)):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    eof = True
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    try:
                        message = json.loads(line)
                    except ValueError:
                        continue
                    if "stage" in message and progress:
                        progress(message["stage"])
                    if "tmp" in message:
                        tmp_dirs.append(message["tmp"])
                    if "path" in message or "error" in message:
                        result = message
        finally:
            sel.close()
            if failure is not None:
                proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            if failure is not None or result is None or "error" in result:
                for tmp in tmp_dirs:
                    _remove_tmp(tmp)
        if failure is not None:
            raise ExportFailed(failure)
        if result is None:
            errfile.seek(0)
            tail = errfile.read().decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise ExportFailed(f"the export process ended with status {proc.returncode}: {tail[0]}")
        if "error" in result:
            raise ExportFailed(result["error"]) if result.get("user") else RuntimeError(result["error"])
        return result


# ---------------------------------------------------------------------------
# verification
# ---------------------------------------------------------------------------


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
        from . import keys

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
    from .chain import check_chain

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
