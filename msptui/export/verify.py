"""The verify stage: ``msptui verify-dossier``, checking that a dossier folder tells the truth, not only that it agrees with itself.

A folder is checked in this order, stopping at the first discrepancy:

1. files: every file matches SHA256SUMS and the manifest; nothing added,
   renamed or missing; only regular files;
2. signature: present (every msptui dossier is signed) and valid for
   public_key.pem;
3. chain: events.jsonl is the whole skeleton from event 1 to the head (see
   ``skeleton.py``): every link and every hash it can recompute, no event of
   this client withheld, no other client's event carried in full;
4. key in the chain: the signing key is pinned in that history at or before
   the head and not retired there;
5. content: dossier.json is rebuilt from the events (``rebuild.py``) and
   must be identical; VERIFY.txt too;
6. PDF: dossier.pdf is re-rendered from dossier.json and must be identical
   (where this machine's renderer is the export's; otherwise the check is
   named as not run);
7. anchoring, which decides between 0 and 3: with the MSP's database, the
   whole history up to the head must equal the database's, the key must be
   pinned there and not retired at the generation time, and the database must
   record this very export (its manifest's SHA-256) with the same recipients;
   without it, ``--key FINGERPRINT`` (the fingerprint the MSP gave you) must
   be the signing key, and ``--head HASH`` (optional) must be the dossier's
   head or an earlier event of its history.

Exit status: 0 intact and anchored; 1 a discrepancy (the first one named);
3 intact but not anchored: nothing outside the folder ties it to the MSP, and
anyone can make a folder that agrees with itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .. import safejson
from ..chain import Event
from ..store import Store
from .collect import FORMAT, FORMAT_VERSION
from .files import FILE_EVENTS, FILE_JSON, FILE_MANIFEST, FILE_PDF, FILE_PUBKEY, FILE_SIG, FILE_SUMS, FILE_VERIFY, sha256_file
from .skeleton import FULL, HEADER, MAX_LINE_BYTES, SkeletonError, Walked, walk

EXIT_OK, EXIT_DISCREPANCY, EXIT_NOT_ANCHORED = 0, 1, 3
MAX_MANIFEST_BYTES = 1 << 20
MAX_SUMS_BYTES = 1 << 16
MAX_KEY_BYTES = 1 << 12
MAX_JSON_BYTES = 1 << 30


@dataclass
class DossierCheck:
    #: exit status 0: intact and anchored
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
    intact: bool = False
    anchored: bool = False
    anchors: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    legacy_events: int = 0
    content_checked: bool = False
    pdf_checked: bool = False
    key_pinned_event: int | None = None
    distribution_event: int | None = None

    @property
    def exit_code(self) -> int:
        if self.problem is not None or not self.intact:
            return EXIT_DISCREPANCY
        return EXIT_OK if self.anchored else EXIT_NOT_ANCHORED

    @property
    def status(self) -> str:
        return {EXIT_OK: "intact and anchored", EXIT_DISCREPANCY: "discrepancy",
                EXIT_NOT_ANCHORED: "intact but not anchored"}[self.exit_code]

    def as_json(self) -> dict:
        return {
            "ok": self.ok, "problem": self.problem, "signed": self.signed, "public_key_sha256": self.fingerprint,
            "chain_head": self.head, "events": self.events, "files": self.files,
            "db_checked": self.db_checked, "db_note": self.db_note, "checks": self.checks,
            "status": self.status, "exit_code": self.exit_code, "intact": self.intact, "anchored": self.anchored,
            "anchors": self.anchors, "not_checked": self.not_checked, "legacy_events": self.legacy_events,
            "content_checked": self.content_checked, "pdf_checked": self.pdf_checked,
            "key_pinned_event": self.key_pinned_event, "distribution_event": self.distribution_event,
        }


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class _Bad(Exception):
    pass


def _read(path: Path, limit: int, what: str) -> bytes:
    with open(path, "rb") as handle:
        body = handle.read(limit + 1)
    if len(body) > limit:
        raise _Bad(f"{what} is larger than any msptui writes ({limit:,} bytes)")
    return body


def _json(body: bytes, what: str) -> object:
    try:
        return safejson.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise _Bad(f"{what} is not UTF-8 text") from None
    except safejson.JSONInputError as exc:
        raise _Bad(f"{what}: {exc}") from None


# ---------------------------------------------------------------------------
# 1-2: files and signature
# ---------------------------------------------------------------------------


def _check_files(folder: Path, report: DossierCheck) -> tuple[dict, bytes]:
    if not folder.is_dir():
        raise _Bad(f"{folder} is not a folder")
    manifest_path = folder / FILE_MANIFEST
    if not manifest_path.is_file() or manifest_path.is_symlink():
        raise _Bad("manifest.json is missing")
    manifest_bytes = _read(manifest_path, MAX_MANIFEST_BYTES, "manifest.json")
    manifest = _json(manifest_bytes, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT + "-manifest":
        raise _Bad("manifest.json is not an msptui dossier manifest")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise _Bad(f"manifest.json: dossier format {version!r}; this msptui checks format {FORMAT_VERSION} "
                   "(format 1 dossiers carry no complete chain and cannot be checked: export the incident again)")
    try:
        listed = {f["name"]: f for f in manifest["files"]}
        head = manifest["chain_head"]
    except (KeyError, TypeError):
        raise _Bad("manifest.json is not a readable dossier manifest") from None
    for name, entry in listed.items():
        if (not isinstance(name, str) or not _NAME.fullmatch(name) or name in (FILE_MANIFEST, FILE_SIG, FILE_SUMS)
                or not isinstance(entry, dict)):
            raise _Bad(f"manifest.json lists an invalid file name {str(name)[:100]!r}")
    if not isinstance(head, dict) or not isinstance(head.get("id"), int) or not _HEX64.fullmatch(str(head.get("hash", ""))):
        raise _Bad("manifest.json: chain_head is malformed")
    report.head = {"id": head["id"], "hash": head["hash"]}
    report.signed = manifest.get("signed") is True
    if not report.signed or FILE_PUBKEY not in listed:
        raise _Bad("the dossier is not signed: every msptui dossier is signed, so its signature was removed")
    for required in (FILE_PDF, FILE_JSON, FILE_EVENTS, FILE_VERIFY):
        if required not in listed:
            raise _Bad(f"manifest.json does not list {required}")
    expected = set(listed) | {FILE_MANIFEST, FILE_SUMS, FILE_SIG}
    present = {p.name for p in folder.iterdir()}
    for name in sorted(expected - present):
        raise _Bad(f"{name} is missing (listed in the manifest)")
    for name in sorted(present - expected):
        raise _Bad(f"unexpected file {name!r}: not listed in the manifest (renamed or added after export)")
    for name in sorted(present):
        if (folder / name).is_symlink() or not (folder / name).is_file():
            raise _Bad(f"{name} is not a regular file")

    sums: dict[str, str] = {}
    for line in _read(folder / FILE_SUMS, MAX_SUMS_BYTES, "SHA256SUMS").decode("utf-8", "replace").splitlines():
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not m:
            raise _Bad(f"SHA256SUMS has an unreadable line: {line[:80]!r}")
        sums[m.group(2)] = m.group(1)
    if set(sums) != expected - {FILE_SUMS}:
        odd = sorted(set(sums) ^ (expected - {FILE_SUMS}))
        raise _Bad(f"SHA256SUMS does not list exactly the dossier's files (differs on {', '.join(odd)[:200]})")
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

    from .. import keys

    signature = _read(folder / FILE_SIG, 1024, "manifest.sig")
    public_pem = _read(folder / FILE_PUBKEY, MAX_KEY_BYTES, "public_key.pem")
    problem = keys.verify_signature(public_pem, manifest_bytes, signature)
    if problem:
        raise _Bad(problem)
    report.fingerprint = keys.fingerprint(public_pem)
    claimed = (manifest.get("signature") or {}).get("public_key_sha256") if isinstance(manifest.get("signature"), dict) else None
    if claimed != report.fingerprint:
        raise _Bad("the manifest's public_key_sha256 does not match public_key.pem")
    rebuild = manifest.get("rebuild")
    if not isinstance(rebuild, dict) or rebuild.get("signing_key") != report.fingerprint:
        raise _Bad("manifest.json: the rebuild parameters do not name the key that signed it")
    report.checks.append(f"manifest.sig: valid Ed25519 signature by key {report.fingerprint}")
    return manifest, manifest_bytes


# ---------------------------------------------------------------------------
# 3-4: the chain and the key in it
# ---------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, object]]:
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise _Bad(f"events.jsonl line {number} is longer than any event msptui writes")
            if not raw.endswith(b"\n"):
                raise _Bad(f"events.jsonl line {number} is not terminated (the file was cut)")
            try:
                text = raw.decode("ascii")
            except UnicodeDecodeError:
                raise _Bad(f"events.jsonl line {number} is not ASCII JSON") from None
            try:
                yield number, safejson.loads(text)
            except safejson.JSONInputError as exc:
                raise _Bad(f"events.jsonl line {number}: {exc}") from None


def _check_chain(folder: Path, manifest: dict, data: dict, report: DossierCheck) -> Walked:
    client_id = manifest.get("client_id")
    if not isinstance(client_id, str) or data.get("client", {}).get("id") != client_id:
        raise _Bad("dossier.json names a different client than manifest.json")
    if data.get("chain_head") != manifest["chain_head"]:
        raise _Bad("dossier.json names a different chain head than manifest.json")
    if data.get("incident", {}).get("id") != manifest.get("incident_id"):
        raise _Bad("dossier.json names a different incident than manifest.json")
    try:
        walked = walk(_lines(folder / FILE_EVENTS), client_id, manifest["chain_head"])
    except SkeletonError as exc:
        raise _Bad(str(exc)) from None
    counts = walked.counts.as_json()
    if manifest.get("chain") != counts:
        raise _Bad(f"manifest.json's chain counts {manifest.get('chain')} differ from events.jsonl's {counts}")
    report.events = walked.counts.events
    report.legacy_events = walked.counts.links
    report.checks.append(
        f"events.jsonl: the whole chain, events 1-{manifest['chain_head']['id']}: every link and hash checks; "
        f"{walked.counts.full} events in full (this client's and the MSP's own), none withheld; "
        f"{walked.counts.headers} other clients' events as headers")
    if walked.counts.links:
        report.checks.append(f"events.jsonl: {walked.counts.links} legacy events linked but not content-checked "
                             "(encoding 1, another client's: their hashes need the content)")
    from ..keys import key_history

    pinned = key_history(walked.full).get(report.fingerprint or "")
    if pinned is None or not pinned.pinned_event:
        raise _Bad(f"the signing key {report.fingerprint} is not pinned in the dossier's own history: "
                   "it is not a key the MSP recorded")
    if pinned.retired_by(event_id=manifest["chain_head"]["id"]):
        raise _Bad(f"the signing key {report.fingerprint} was retired (event {pinned.retired_event}) before this "
                   "dossier's chain head")
    report.key_pinned_event = pinned.pinned_event
    report.checks.append(f"signing key pinned in the history at event {pinned.pinned_event}, not retired there")
    return walked


# ---------------------------------------------------------------------------
# 5-6: content and PDF rebuilt
# ---------------------------------------------------------------------------


def _check_content(folder: Path, manifest: dict, data: dict, walked: Walked, report: DossierCheck) -> None:
    from .bundle import _dump_json, verify_text
    from .rebuild import content_inputs, differences, first_difference, rebuild_json

    inputs = manifest.get("inputs") if isinstance(manifest.get("inputs"), dict) else {}
    differ = differences(inputs.get("content"), content_inputs())
    expected_verify = verify_text(data, fingerprint=report.fingerprint or "", counts=walked.counts.as_json())
    if (folder / FILE_VERIFY).read_bytes() != expected_verify.encode("utf-8"):
        if not differ:
            raise _Bad("VERIFY.txt differs from what msptui writes for this dossier (its instructions were edited)")
        # an earlier msptui's wording (the signature still covers the file): say so, do not call it edited
        report.not_checked.append("VERIFY.txt could not be checked against what msptui writes: this msptui is not "
                                  "the export's (" + "; ".join(differ[:5]) + ("; ..." if len(differ) > 5 else "")
                                  + "); check it with the export's msptui")
    try:
        rebuilt = rebuild_json(walked.full, manifest, _dump_json)
    except Exception as exc:  # the events do not make this incident: name it, never a traceback
        if differ:
            rebuilt = None
        else:
            raise _Bad(f"dossier.json cannot be rebuilt from the events in events.jsonl ({type(exc).__name__}: "
                       f"{str(exc)[:200]})") from None
    on_disk = (folder / FILE_JSON).read_bytes()
    if rebuilt != on_disk:
        where = first_difference(data, json.loads(rebuilt)) if rebuilt is not None else "the rebuild failed"
        if differ:  # the difference may be this msptui's, not the dossier's: say so, do not call it a mismatch
            report.not_checked.append(
                "dossier.json could not be checked against its events: this msptui's data is not the export's ("
                + "; ".join(differ[:5]) + ("; ..." if len(differ) > 5 else "")
                + f") and the rebuild differs ({where}); check it with the export's msptui and data files")
            return
        raise _Bad(f"dossier.json does not match its events: {where}")
    report.content_checked = True
    report.checks.append("dossier.json: rebuilt from the events in events.jsonl, identical"
                         + (" (though this msptui's data differs from the export's)" if differ else ""))


def _check_pdf(folder: Path, manifest: dict, data: dict, report: DossierCheck,
               renderer: Callable[[dict], bytes] | None) -> None:
    from .rebuild import differences, renderer_inputs

    inputs = manifest.get("inputs") if isinstance(manifest.get("inputs"), dict) else {}
    recorded = inputs.get("renderer")
    if renderer is None:
        if isinstance(recorded, dict) and recorded.get("custom"):
            report.not_checked.append("dossier.pdf was not re-rendered: the export used a custom renderer")
            return
        try:
            import weasyprint  # noqa: F401
        except Exception as exc:
            report.not_checked.append(f"dossier.pdf was not re-rendered: WeasyPrint is not available here "
                                      f"({type(exc).__name__}); it is covered only by the hashes and the signature")
            return
        differ = differences(recorded, renderer_inputs())
        from .bundle import render as renderer
    else:
        differ = []
    try:
        pdf = renderer(data)
    except Exception as exc:
        if differ or not report.content_checked:
            report.not_checked.append(f"dossier.pdf could not be re-rendered here ({type(exc).__name__}: {str(exc)[:120]})")
            return
        raise _Bad(f"dossier.json cannot be rendered ({type(exc).__name__}: {str(exc)[:160]})") from None
    if pdf != (folder / FILE_PDF).read_bytes():
        if differ:  # another renderer lays out differently: not a finding about the dossier
            report.not_checked.append("dossier.pdf could not be checked against dossier.json: this machine's renderer "
                                      "is not the export's (" + "; ".join(differ[:5]) + ") and renders other bytes")
            return
        raise _Bad("dossier.pdf is not what dossier.json renders to (the PDF was replaced or edited)")
    report.pdf_checked = True
    report.checks.append("dossier.pdf: re-rendered from dossier.json, identical bytes")


# ---------------------------------------------------------------------------
# 7: anchoring
# ---------------------------------------------------------------------------


def _check_db(store: Store, manifest: dict, manifest_bytes: bytes, walked: Walked, report: DossierCheck) -> None:
    from ..chain import ChainWalk
    from ..keys import stored_history
    from ..projection import subject_of_payload
    from .distribution import KIND as DISTRIBUTED

    head = manifest["chain_head"]
    client_id = manifest["client_id"]
    where = f"database {store.path}"
    chain = ChainWalk()
    lines = walked.lines
    seen = 0
    for event in store.events():
        if event.id > head["id"]:
            break
        problem = chain.feed(event)
        if problem is not None:
            raise _Bad(f"{where}: chain broken before the dossier's head ({problem})")
        line = lines[event.id - 1]
        if event.hash != line.hash:
            raise _Bad(f"{where}: event {event.id} differs from the dossier's copy: one of the two histories was rewritten")
        if line.shape == FULL:
            if line.event is None or line.event.as_json() != event.as_json():
                raise _Bad(f"{where}: event {event.id} differs from the dossier's copy: history was rewritten after export")
        elif line.shape != HEADER and subject_of_payload(event.kind, event.payload) in (client_id, None):
            raise _Bad(f"{where}: event {event.id} is this client's (or the MSP's) but the dossier withheld its content")
        seen = event.id
    if seen != head["id"]:
        raise _Bad(f"{where}: has no event {head['id']} (the dossier's chain head): history was truncated or this is "
                   "another database")
    history = stored_history(store).get(report.fingerprint or "")
    if history is None or not history.pinned_event or history.pinned_event > head["id"]:
        raise _Bad(f"{where}: the signing key {report.fingerprint} is not pinned in the MSP's history before the head")
    if history.retired_by(event_id=head["id"], at=str(manifest["generated_at"])):
        raise _Bad(f"{where}: the signing key {report.fingerprint} was retired (event {history.retired_event}, "
                   f"{history.retired_at}) before this dossier was generated")
    manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
    record = None
    for row in store.conn.execute("SELECT * FROM events WHERE subject = ? AND kind = ? ORDER BY id",
                                  (client_id, DISTRIBUTED)):
        event = Event.from_row(dict(row))
        if event.payload.get("manifest_sha256") == manifest_sha:
            record = event
            break
    if record is None:
        raise _Bad(f"{where}: records no export of this dossier (no {DISTRIBUTED} event for manifest SHA-256 "
                   f"{manifest_sha[:16]}...): it was not exported from this database")
    if record.payload.get("recipients") != (manifest.get("rebuild") or {}).get("recipients"):
        raise _Bad(f"{where}: event {record.id} records other recipients for this dossier than its manifest")
    report.distribution_event = record.id
    report.db_checked = True
    later = (f" (retired since, at event {history.retired_event}, {history.retired_at}: dossiers generated after that "
             "are refused)" if history.retired_event else "")
    report.db_note = (f"database {store.path}: events 1-{head['id']} identical to the dossier's, key pinned at event "
                      f"{history.pinned_event} and not retired when this dossier was generated{later}, "
                      f"distribution recorded at event {record.id}")
    report.checks.append(report.db_note)
    report.anchors.append(f"the MSP's database {store.path}")


def _check_anchors(walked: Walked, report: DossierCheck, key: str | None, head: str | None) -> None:
    if key is not None:
        given = key.strip().lower()
        if given != report.fingerprint:
            raise _Bad(f"signed by key {report.fingerprint}, not by the key you gave ({given[:64]})")
        report.anchors.append("the key fingerprint given with --key")
        report.checks.append("signing key: the fingerprint you gave")
    if head is not None:
        given = head.strip().lower()
        match = next((line for line in walked.lines if line.hash == given), None)
        if match is None:
            raise _Bad(f"the chain head you gave ({given[:64]}) is not in this dossier's history: the history was "
                       "rewritten, or it is another MSP's")
        report.checks.append(f"chain head you gave: event {match.id} of this dossier's history")


def verify_dossier(folder: Path | str, *, store: Store | None = None, db_note: str = "", key: str | None = None,
                   head: str | None = None, renderer: Callable[[dict], bytes] | None = None) -> DossierCheck:
    """Check a dossier folder (see the module docstring); ``store`` anchors it in the MSP's database,
    ``key`` / ``head`` in what the MSP gave the reader. Stops at the first discrepancy."""
    folder = Path(folder)
    report = DossierCheck(ok=False)
    try:
        manifest, manifest_bytes = _check_files(folder, report)
        data = _json(_read(folder / FILE_JSON, MAX_JSON_BYTES, "dossier.json"), "dossier.json")
        if not isinstance(data, dict):
            raise _Bad("dossier.json is not a dossier")
        walked = _check_chain(folder, manifest, data, report)
        _check_content(folder, manifest, data, walked, report)
        _check_pdf(folder, manifest, data, report, renderer)
        report.intact = True
        _check_anchors(walked, report, key, head)
        if store is not None:
            _check_db(store, manifest, manifest_bytes, walked, report)
        else:
            report.db_note = db_note or "database check not run (no database)"
            report.checks.append(report.db_note)
    except _Bad as exc:
        report.problem = str(exc)
        report.intact = False
        return report
    except OSError as exc:
        report.problem = f"cannot read the folder: {exc.strerror} ({exc.filename})"
        report.intact = False
        return report
    report.anchored = bool(report.anchors)
    report.ok = report.exit_code == EXIT_OK
    return report
