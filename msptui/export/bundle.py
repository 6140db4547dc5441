"""The bundle and sign stages: the dossier's files, its manifest and SHA256SUMS, the signature, and the pipeline.

``export`` runs the stages in order — collect (``collect.py``), render
(``pdf.py``, WeasyPrint), bundle, sign — and writes the folder atomically
(``files.write_folder``). It runs in the export child process
(``child.py``); the TUI and the CLI only start that process and read its
progress.
"""

from __future__ import annotations

import itertools
import json
import textwrap
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
from .skeleton import HASH_RULES, encode

Progress = Callable[[str], None]
STAGES = ("collect", "render", "write", "sign", "done")


def _dump_json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def events_jsonl(events: Iterable[Event]) -> bytes:
    """Full events, one per line, ASCII-only JSON (kept for callers; a dossier carries ``skeleton.skeleton``)."""
    return encode(e.as_json() for e in events)


OPENSSL_NOTE = "OpenSSL 3.0 or later: 'pkeyutl -rawin' is not in OpenSSL 1.1.1 or LibreSSL"


def verify_text(data: dict, *, fingerprint: str, counts: dict) -> str:
    """VERIFY.txt: how anyone checks this folder with stock tools and with msptui (rebuilt and compared by verify-dossier)."""
    head = data["chain_head"]
    lines = [
        "HOW TO VERIFY THIS DOSSIER",
        "==========================",
        "",
        f"Client:    {data['client']['id']}",
        f"Incident:  {data['incident']['id']}",
        f"Generated: {data['generated_at']} by msptui {data['generator']['version']}",
        f"Event chain head at export: event {head['id']}, SHA-256 {head['hash']}",
        f"Signing key fingerprint (SHA-256 of the raw Ed25519 public key): {fingerprint}",
        "",
        "The fingerprint and the chain head above are only as good as the copy you",
        "compare them with: get them from the MSP separately (for example in the",
        "covering email to counsel, or read out on the phone). A substituted key or",
        "a rewritten history then shows.",
        "",
        "1. File integrity (any Unix shell; on macOS use 'shasum -a 256 -c'):",
        "",
        "     cd <this folder>",
        "     sha256sum -c SHA256SUMS",
        "",
        "   Every line must say OK. manifest.json lists the size and SHA-256 of every",
        "   other file, the chain head and what the dossier was built from;",
        "   SHA256SUMS covers manifest.json and manifest.sig too.",
        "",
        f"2. Signature ({OPENSSL_NOTE}):",
        "   manifest.sig is a raw Ed25519 signature of the exact bytes of manifest.json.",
        "",
        "     openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in manifest.json -sigfile manifest.sig",
        "",
        "   It must print 'Signature Verified Successfully'. Then check that the key is",
        "   the MSP's: its fingerprint must equal the one the MSP gave you.",
        "",
        "     openssl pkey -pubin -in public_key.pem -outform DER | tail -c 32 | sha256sum",
        "",
        "3. Event chain: events.jsonl holds one line for every event of the MSP's",
        f"   history from event 1 to the head ({counts['events']} events): in full",
        f"   ({counts['full']}) for this client's events and the MSP's own; for other",
        f"   clients' events only the header the hash covers ({counts['headers_only']}) or, for",
        "   events written before msptui's event encoding 2, only the hash links",
        f"   ({counts['legacy_links']}).",
        "",
        *textwrap.wrap(HASH_RULES, width=79, initial_indent="   ", subsequent_indent="   ",
                       break_long_words=False, break_on_hyphens=False),
        "",
        "4. All of the above, and more: msptui rebuilds dossier.json from the events",
        "   in this folder and requires it to be identical, re-renders dossier.pdf from",
        "   dossier.json and requires identical bytes, checks the key was pinned in the",
        "   MSP's history (and not retired) and the chain against the MSP's database:",
        "",
        "     msptui verify-dossier <this folder>                       (at the MSP, with its database)",
        f"     msptui verify-dossier <this folder> --no-db --key {fingerprint[:8]}...  (anyone else: the full fingerprint)",
        "",
        "   Exit status 0: intact, and anchored (by the MSP's database, or by the key",
        "   fingerprint you were given). 1: a discrepancy, printed. 3: the folder is",
        "   intact but nothing ties it to the MSP (no database, no --key): anyone can",
        "   make a folder that agrees with itself.",
        "",
    ]
    return "\n".join(lines)


def build_manifest(data: dict, files: dict[str, bytes], *, fingerprint: str, counts: dict, rebuild: dict,
                   inputs: dict) -> dict:
    return {
        "format": FORMAT + "-manifest",
        "format_version": FORMAT_VERSION,
        "generator": f"msptui {__version__}",
        "generated_at": data["generated_at"],
        "client_id": data["client"]["id"],
        "incident_id": data["incident"]["id"],
        "chain_head": data["chain_head"],
        "chain_slice": data["chain_slice"],
        "chain": counts,
        "signed": True,
        "signature": {"algorithm": "Ed25519", "file": FILE_SIG, "public_key": FILE_PUBKEY, "public_key_sha256": fingerprint,
                      "over": "the exact bytes of manifest.json"},
        "rebuild": rebuild,
        "inputs": inputs,
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
    renderer: Callable[[dict], bytes] | None = None,
    on_tmp: Callable[[Path], None] | None = None,
    recipients: list[dict] | None = None,
    notice: Callable[[str], None] | None = None,
) -> Path:
    """Write the signed dossier folder, record its distribution, and return its path.

    Every dossier is signed: with no key yet, one is created (owner-only) and
    pinned in the chain first (``keys.signer_for``); ``notice`` hears about it.
    """
    from .. import environment, keys
    from ..filesafety import check_no_symlinks
    from .distribution import KIND as DISTRIBUTED, payload as distribution_payload
    from .rebuild import content_inputs, renderer_inputs
    from .skeleton import skeleton

    progress = progress or (lambda stage: None)
    # whole seconds: the manifest records generated_at to the second, and verify-dossier rebuilds from it
    generated_at = (generated_at or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    base = Path(out_dir) if out_dir is not None else paths.exports_dir()
    local_tz = local_tz or environment.local_zone()
    recipients = list(recipients or [])

    progress("collect")
    signer = _recording(store, "record the signing key", lambda: keys.signer_for(store))
    if signer.created and notice:
        notice(f"created the dossier signing key {signer.info.private_path} (owner-only), fingerprint "
               f"{signer.info.fingerprint}; recorded in the history as event {signer.pinned_event}")
    fingerprint = signer.info.fingerprint
    data, _slice = collect(store, incident_id, generated_at=generated_at, privileged=privileged, local_tz=local_tz,
                           signing_key=fingerprint, recipients=recipients)
    target = target_folder(base, data["client"]["id"], data["incident"]["id"], generated_at)
    check_no_symlinks(base, target)
    if target.exists():
        raise UserError(f"{target} already exists: an export with this timestamp was already written")
    head = data["chain_head"]
    upto_head = itertools.takewhile(lambda e: e.id <= head["id"], store.events())
    events_bytes, _full, counts = skeleton(upto_head, data["client"]["id"])

    progress("render")
    pdf = (renderer or render)(data)

    progress("write")
    files: dict[str, bytes] = {
        FILE_PDF: pdf,
        FILE_JSON: _dump_json(data),
        FILE_EVENTS: events_bytes,
        FILE_VERIFY: verify_text(data, fingerprint=fingerprint, counts=counts.as_json()).encode("utf-8"),
        FILE_PUBKEY: signer.info.public_pem,
    }
    rebuild = {"generated_at": data["generated_at"], "local_tz": local_tz, "privileged": privileged,
               "signing_key": fingerprint, "recipients": data["recipients"]}
    inputs = {"content": content_inputs(), "renderer": renderer_inputs() if renderer is None else {"custom": True}}
    manifest_bytes = _dump_json(build_manifest(data, files, fingerprint=fingerprint, counts=counts.as_json(),
                                               rebuild=rebuild, inputs=inputs))
    progress("sign")
    signature, signer_pem = keys.sign(manifest_bytes)
    if signer_pem != signer.info.public_pem:
        raise UserError("the signing key changed during the export; run it again")
    listed = {**files, FILE_MANIFEST: manifest_bytes, FILE_SIG: signature}
    listed[FILE_SUMS] = sha256sums(listed)

    folder = "/".join(target.parts[-3:])
    record = distribution_payload(data, manifest_sha256=sha256_bytes(manifest_bytes), folder=folder)
    write_folder(target, listed, on_tmp=on_tmp,
                 before_rename=lambda: _recording(store, "record its distribution", lambda: store.append(DISTRIBUTED, record)))
    progress("done")
    return target


def _recording(store: Store, what: str, write: Callable[[], Any]) -> Any:
    """A write the export cannot do without (every dossier is recorded): a database error is one line, nothing written."""
    import sqlite3

    try:
        return write()
    except sqlite3.Error as exc:
        raise UserError(f"cannot {what} in {store.path} ({exc}): every dossier is recorded in the history, "
                        "so nothing was written") from None


def signed_by(folder: Path | str) -> str | None:
    """The signing key fingerprint a dossier folder's manifest names (for a status line; not a verification)."""
    try:
        manifest = json.loads((Path(folder) / FILE_MANIFEST).read_text(encoding="utf-8"))
        return str(manifest["signature"]["public_key_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
