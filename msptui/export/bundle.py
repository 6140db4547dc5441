"""The bundle and sign stages: the dossier's files, its manifest and SHA256SUMS, the signature, and the pipeline.

``export`` runs the stages in order — collect (``collect.py``), render
(``pdf.py``, WeasyPrint), bundle, sign — and writes the folder atomically
(``files.write_folder``). It runs in the export child process
(``child.py``); the TUI and the CLI only start that process and read its
progress.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from .. import __version__, paths
from ..chain import Event
from ..errors import UserError
from ..store import Store
from .collect import FORMAT, FORMAT_VERSION, collect
from .files import (
    FILE_EVENTS,
    FILE_JSON,
    FILE_MANIFEST,
    FILE_PDF,
    FILE_PUBKEY,
    FILE_SIG,
    FILE_SUMS,
    FILE_VERIFY,
    sha256_bytes,
    target_folder,
    write_folder,
)

Progress = Callable[[str], None]
STAGES = ("collect", "render", "write", "sign", "done")


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


def render(data: dict) -> bytes:
    """The PDF bytes (imports WeasyPrint: call only in the child or in tests/benchmarks)."""
    from .pdf import render_pdf

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
    from .. import keys

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

    write_folder(target, listed, on_tmp=on_tmp)
    progress("done")
    return target


