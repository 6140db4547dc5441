"""The incident dossier: content, integrity, tamper detection, hostile text, determinism, atomicity.

Real PDFs are rendered a handful of times (small incidents); checks that do
not need a PDF pass a stand-in renderer so they cost milliseconds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
import logging
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.export_bench import populate
from msptui import export as dossier, keys
from msptui.export import files as export_files
from msptui.chain import Event
from msptui.cli import main
from msptui.store import Store

from .pdftools import pdf_text

GENERATED = datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc)
NAUGHTY = Path(__file__).with_name("data") / "naughty-strings.json"
FAKE_PDF = b"%PDF-1.7\n% stand-in renderer for tests that do not need a real PDF\n%%EOF\n"


def fake_renderer(data: dict) -> bytes:
    return FAKE_PDF


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


class WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def key_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys") / "msptui"
    old = os.environ.get("MSPTUI_KEY_DIR")
    os.environ["MSPTUI_KEY_DIR"] = str(folder)
    keys.init_key()
    yield folder
    if old is None:
        os.environ.pop("MSPTUI_KEY_DIR", None)
    else:
        os.environ["MSPTUI_KEY_DIR"] = old


@pytest.fixture(scope="module")
def exported(tmp_path_factory, key_env):
    """One real, signed dossier shared by the read-only tests (``db_before``: the database just before it was written)."""
    base = tmp_path_factory.mktemp("dossier")
    db = base / "msptui.db"
    collector = WarningCollector()
    logging.getLogger("weasyprint").addHandler(collector)
    try:
        with Store.open(db, create=True) as store:
            incident_id = populate(store, events=40, evidence=4, reviews=3)
            keys.signer_for(store)  # pinned first, so a copy of the database re-exports to the same bytes
            with sqlite3.connect(base / "before.db") as copy:
                store.conn.backup(copy)
            path = dossier.export(store, incident_id, out_dir=base / "out", generated_at=GENERATED, local_tz="Europe/Berlin")
    finally:
        logging.getLogger("weasyprint").removeHandler(collector)
    return {"db": db, "db_before": base / "before.db", "path": path, "incident_id": incident_id,
            "warnings": collector.messages, "base": base}


@pytest.fixture
def copy_of(exported, tmp_path):
    def make() -> Path:
        target = tmp_path / "copy" / exported["path"].name
        shutil.copytree(exported["path"], target)
        return target
    return make


# ---------------------------------------------------------------------------
# content
# ---------------------------------------------------------------------------


def test_folder_layout_and_permissions(exported):
    path = exported["path"]
    assert path.parent.parent.parent == exported["base"] / "out"
    assert path.parent.name == exported["incident_id"] and path.parent.parent.name == "acme"
    assert path.name == "20250701T120000Z"
    assert sorted(p.name for p in path.iterdir()) == sorted(
        ["dossier.pdf", "dossier.json", "events.jsonl", "VERIFY.txt", "public_key.pem", "manifest.json", "manifest.sig", "SHA256SUMS"]
    )
    assert oct(path.stat().st_mode & 0o777) == oct(0o700)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "temporary folder left behind"
    assert exported["warnings"] == [], f"WeasyPrint warned: {exported['warnings']}"


def test_pdf_shows_coverage_clauses_checklist_and_marking(exported):
    text = pdf_text(exported["path"] / "dossier.pdf")
    flat = squash(text)
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 8
    for page in pages:
        assert "CONFIDENTIAL" in page, "marking missing on a page"
        assert re.search(r"Page \d+ of \d+", page)
    # cover
    # generated on a machine in Europe/Berlin: shown in the client's zone, UTC in brackets (and the manifest's stamp)
    for needle in ["Acme Dental Group", exported["incident_id"], "msptui 0.1.0", "2025-07-01T12:00:00Z",
                   "2025-07-01 08:00 EDT (12:00 UTC)"]:
        assert squash(needle) in flat, needle
    data = json.loads((exported["path"] / "dossier.json").read_text())
    assert squash(data["chain_head"]["hash"]) in flat
    # coverage matrix: each state, factual wording
    assert "Coveragematrixforthisincident" in flat
    assert squash("included in Schedule B §3 (Schedule B, version 2, signed 2025-03-01)") in flat
    assert squash("Declined — with signed acceptance") in flat
    assert squash("Declined — no risk-acceptance record") in flat or squash("acceptance NOT signed") in flat
    assert squash("Client responsibility") in flat and squash("Third party") in flat and squash("Not addressed") in flat
    assert squash("qbr review 2025-01-10 (acme-rev-1): recommended; decision declined") in flat
    # clauses quoted
    assert squash("Provider's aggregate liability is limited to the fees paid in the twelve months before the claim.") in flat
    assert squash("No security service can prevent every incident.") in flat
    assert squash("Client shall maintain cyber liability insurance") in flat
    # insurance both sides, notices
    assert "HarborlineMutual" in flat and "AssuredTechE&O" in flat
    assert squash("written notice within 72 hours of discovery") in flat
    # checklist with who/when and the decision not to notify
    assert squash("Send written notice of the incident to Harborline Mutual") in flat
    assert squash("Counsel advised no regulator notice") in flat
    assert squash("Rationale:") in flat
    # obligations, evidence, timeline, appendix, verification
    assert "us.ny.breach" in flat and "us.hipaa.hhs" in flat
    assert "fs01-memory.raw" in flat and squash("transferred to evidence locker") in flat
    assert squash("Isolated FS01 from the network") in flat
    assert squash("Appendix A — complete scope in force") in flat
    assert squash("openssl pkeyutl -verify") in flat
    # never a legal conclusion
    assert "notliable" not in flat.lower()


def test_dossier_json_has_every_section(exported):
    data = json.loads((exported["path"] / "dossier.json").read_text())
    for key in ["client", "incident", "contract", "insurance", "reviews", "risk_acceptances", "checklist", "obligations",
                "decisions_not_to_act", "evidence", "timeline", "chain_head", "generated_at", "marking",
                "signing_key", "recipients", "distributions"]:
        assert key in data
    assert data["signing_key"]["fingerprint"] == keys.info().fingerprint and data["signing_key"]["pinned_event"]
    states = {c["item"]: c["state"] for c in data["contract"]["coverage"]}
    assert states["edr"] == "included" and states["backup_onprem"] == "declined"
    assert states["mfa"] == "client_responsibility" and states["remote_access"] == "third_party"
    assert states["bcdr"] == "not_addressed"
    assert {c["kind"] for c in data["contract"]["clauses"]} >= {"limitation_of_liability", "security_disclaimer", "client_insurance_required"}
    assert all(i["who_when"] for i in data["checklist"])
    assert data["decisions_not_to_act"][0]["updated_by"] == "pat"
    assert [t["at"] for t in data["timeline"]] == sorted(t["at"] for t in data["timeline"])
    assert data["marking"] == "Confidential"


def test_events_jsonl_is_the_whole_chain_up_to_the_head(exported):
    lines = (exported["path"] / "events.jsonl").read_text().splitlines()
    events = [Event.from_json(json.loads(line)) for line in lines]
    assert all(e.compute_hash() == e.hash for e in events)
    head = json.loads((exported["path"] / "manifest.json").read_text())["chain_head"]
    with Store.open(exported["db"]) as store:
        upto_head = [e for e in store.events() if e.id <= head["id"]]
    assert [e.id for e in events] == [e.id for e in upto_head]  # this DB holds only this client: every event in full
    assert events[-1].hash == head["hash"]
    assert [e.kind for e in events if "type" not in e.payload] == ["key.pinned"]
    types = {e.payload["type"] for e in events if "type" in e.payload}
    assert types == {"clients", "agreements", "risk_acceptances", "policies", "reviews", "incidents", "checklist_items", "evidence", "notes"}


# ---------------------------------------------------------------------------
# integrity
# ---------------------------------------------------------------------------


def test_manifest_hashes_and_stock_tools(exported):
    path = exported["path"]
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["signed"] is True
    for entry in manifest["files"]:
        body = (path / entry["name"]).read_bytes()
        assert len(body) == entry["size"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    assert {e["name"] for e in manifest["files"]} == {"dossier.pdf", "dossier.json", "events.jsonl", "VERIFY.txt", "public_key.pem"}
    with Store.open(exported["db"]) as store:
        after = [e for e in store.events() if e.id > manifest["chain_head"]["id"]]
    # the head is what the dossier describes; the export itself is the next event (the distribution log)
    assert [e.kind for e in after] == ["dossier.exported"]
    assert after[0].payload["manifest_sha256"] == hashlib.sha256((path / "manifest.json").read_bytes()).hexdigest()
    if shutil.which("sha256sum"):
        out = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=path, capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.count(": OK") == 7
    openssl = shutil.which("openssl")
    version = subprocess.run([openssl, "version"], capture_output=True, text=True).stdout if openssl else ""
    if version.startswith("OpenSSL 3"):  # pkeyutl -rawin is OpenSSL 3 only, as VERIFY.txt says
        out = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public_key.pem", "-rawin",
                              "-in", "manifest.json", "-sigfile", "manifest.sig"], cwd=path, capture_output=True, text=True)
        assert out.returncode == 0 and "Signature Verified Successfully" in out.stdout
    verify_txt = (path / "VERIFY.txt").read_text()
    assert "sha256sum -c SHA256SUMS" in verify_txt and "msptui verify-dossier" in verify_txt
    assert manifest["chain_head"]["hash"] in verify_txt and keys.info().fingerprint in verify_txt
    assert "OpenSSL 3.0 or later" in verify_txt and "1.1.1 or later" not in verify_txt


def test_verify_dossier_cli_anchored_by_the_db_or_a_key_else_exit_3(exported, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(exported["db"]), "verify-dossier", str(exported["path"])])
    assert result.exit_code == 0, result.output
    assert "OK: dossier intact and anchored" in result.stdout and "database check: ran" in result.stdout
    assert "re-rendered from dossier.json, identical bytes" in result.stdout
    assert "rebuilt from the events in events.jsonl, identical" in result.stdout
    result = runner.invoke(main, ["--db", str(tmp_path / "none.db"), "verify-dossier", str(exported["path"]), "--json"])
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["intact"] and not report["anchored"] and not report["ok"] and report["status"] == "intact but not anchored"
    assert report["db_checked"] is False and "no database" in report["db_note"]
    assert report["content_checked"] and report["pdf_checked"]
    fingerprint = keys.info().fingerprint
    result = runner.invoke(main, ["--db", str(tmp_path / "none.db"), "verify-dossier", str(exported["path"]), "--key", fingerprint])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["dossier.pdf", "dossier.json", "events.jsonl", "VERIFY.txt", "public_key.pem",
                                  "manifest.json", "manifest.sig", "SHA256SUMS"])
def test_any_changed_byte_is_detected(copy_of, name):
    folder = copy_of()
    path = folder / name
    body = bytearray(path.read_bytes())
    index = len(body) // 2
    body[index] = (body[index] + 1) % 256 if body[index] != 0x0A else 0x20
    path.write_bytes(bytes(body))
    report = dossier.verify_dossier(folder)
    assert not report.ok
    assert name in report.problem or "signature" in report.problem or "SHA256SUMS" in report.problem


@pytest.mark.parametrize("change", ["rename", "add", "delete"])
def test_renamed_added_or_deleted_file_is_detected(copy_of, change):
    folder = copy_of()
    if change == "rename":
        (folder / "dossier.pdf").rename(folder / "dossier-final.pdf")
    elif change == "add":
        (folder / "notes.txt").write_text("added later")
    else:
        (folder / "manifest.sig").unlink()
    report = dossier.verify_dossier(folder)
    assert not report.ok
    expected = {"rename": "dossier.pdf is missing", "add": "unexpected file 'notes.txt'", "delete": "manifest.sig is missing"}[change]
    assert expected in report.problem


def test_consistent_rewrite_without_the_key_fails_on_the_signature(copy_of):
    """An attacker edits an event and recomputes every hash file, but cannot sign."""
    folder = copy_of()
    lines = (folder / "events.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["actor"] = "someone-else"
    first["hash"] = Event.from_json(first).compute_hash()
    lines[0] = json.dumps(first)
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["files"]:
        body = (folder / entry["name"]).read_bytes()
        entry["size"], entry["sha256"] = len(body), hashlib.sha256(body).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    names = sorted(p.name for p in folder.iterdir() if p.name != "SHA256SUMS")
    (folder / "SHA256SUMS").write_text("".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in names))
    report = dossier.verify_dossier(folder)
    assert not report.ok and "signature" in report.problem and report.exit_code == 1


def test_cli_names_the_problem_and_exits_1(copy_of, exported):
    folder = copy_of()
    with open(folder / "dossier.pdf", "ab") as handle:
        handle.write(b"x")
    result = CliRunner().invoke(main, ["--db", str(exported["db"]), "verify-dossier", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("FAILED: dossier.pdf")


def _rewrite_history(db: Path, event_id: int) -> None:
    """What an insider with the DB could do: edit one event and re-seal every later one."""
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    rows = conn.execute("SELECT * FROM events ORDER BY id").fetchall()
    cols = [c[0] for c in conn.execute("SELECT * FROM events LIMIT 1").description]
    prev = None
    conn.execute("BEGIN")
    for row in rows:
        event = Event.from_row(dict(zip(cols, row)))
        if event.id == event_id:
            payload = json.loads(json.dumps(event.payload))
            payload["record"]["name"] = "Rewritten Ltd"
            event = replace(event, payload=payload)
        if prev is not None or event.id == event_id:
            event = replace(event, prev_hash=prev if prev is not None else event.prev_hash).sealed()
            conn.execute("UPDATE events SET payload=?, prev_hash=?, hash=? WHERE id=?",
                         (json.dumps(event.payload, sort_keys=True, separators=(",", ":")), event.prev_hash, event.hash, event.id))
            prev = event.hash
    conn.execute("UPDATE chain_head SET hash=?", (prev,))
    conn.execute("COMMIT")
    conn.close()


def test_db_history_rewrite_after_export_is_detected(tmp_path, key_env):
    db = tmp_path / "msptui.db"
    with Store.open(db, create=True) as store:
        incident_id = populate(store, events=20, evidence=2, reviews=1)
        path = dossier.export(store, incident_id, out_dir=tmp_path / "out", generated_at=GENERATED, renderer=fake_renderer)
        assert dossier.verify_dossier(path, store=store, renderer=fake_renderer).ok
        # history that only grows after the export is fine
        populate(store, events=5, evidence=1, reviews=1, client_id="other")
        assert dossier.verify_dossier(path, store=store, renderer=fake_renderer).ok
    _rewrite_history(db, 1)
    with Store.open(db) as store:
        report = dossier.verify_dossier(path, store=store)
    assert not report.ok
    assert "rewritten" in report.problem
    result = CliRunner().invoke(main, ["--db", str(db), "verify-dossier", str(path)])
    assert result.exit_code == 1 and "rewritten" in result.stderr


# ---------------------------------------------------------------------------
# hostile text and the fetcher
# ---------------------------------------------------------------------------

INJECTIONS = [
    '<link rel="attachment" href="file:///etc/passwd">',
    '<img src="http://127.0.0.1:9/x">',
    '<style>@import url("file:///etc/passwd");</style>',
    '<p style="background: url(file:///etc/hostname)">styled</p>',
    '<a href="file:///etc/shadow">click</a>',
]


def _naughty_sample() -> list[str]:
    strings = json.loads(NAUGHTY.read_text(encoding="utf-8"))
    usable = [s for s in strings if s and "\x00" not in s and len(s) <= 120]
    return usable[::9]


def _no_attachments(pdf_path: Path) -> None:
    from pypdf import PdfReader

    reader = PdfReader(str(pdf_path))
    root = reader.trailer["/Root"]
    assert "/AF" not in root
    assert "/EmbeddedFiles" not in (root.get("/Names") or {})
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            assert annot.get("/Subtype") != "/FileAttachment"
            uri = (annot.get("/A") or {}).get("/URI")
            assert uri is None or not str(uri).startswith(("file:", "http:")), uri
    raw = pdf_path.read_bytes()
    assert b"root:x:0:0" not in raw


def test_hostile_record_text_is_literal_and_fetches_nothing(tmp_path, key_env):
    from msptui.export.pdf import make_fetcher, render_pdf

    sample = _naughty_sample()
    chunks = [sample[i::5] for i in range(5)]
    text = {
        "client_name": " ".join([INJECTIONS[0], *chunks[0][:6]])[:500],
        "summary": "\n".join([*INJECTIONS, *chunks[1]]),
        "note": "\n".join([INJECTIONS[1], INJECTIONS[2], *chunks[2]]),
        "evidence_name": (INJECTIONS[3] + " " + " ".join(chunks[3][:4]))[:500],
        "topic": (INJECTIONS[4] + " " + " ".join(chunks[4][:4]))[:500],
        "clause": "\n".join([INJECTIONS[2], *chunks[4]]),
        "reason": "\n".join([INJECTIONS[0], *chunks[3]]),
    }
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    text["note"] += f'\n<img src="http://127.0.0.1:{port}/beacon">'
    text["note"] += "\nWeasyPrint 70 asserted on this: \u2029 and \u2028 \u2029 and CRLF\r\n end"
    db = tmp_path / "msptui.db"
    fetchers = []

    def renderer(data: dict) -> bytes:
        fetcher = make_fetcher()
        fetchers.append(fetcher)
        pdf, report = render_pdf(data, fetcher=fetcher)
        return pdf

    with Store.open(db, create=True) as store:
        incident_id = populate(store, events=40, evidence=2, reviews=1, text=text)
        path = dossier.export(store, incident_id, out_dir=tmp_path / "out", generated_at=GENERATED, renderer=renderer)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing connected to our beacon
    listener.close()
    # the fetcher was only ever asked for bundled assets: no record text became a URL
    (fetcher,) = fetchers
    assert fetcher.refused == []
    assert fetcher.served and all(u.endswith((".css", ".ttf")) for u in fetcher.served)
    _no_attachments(path / "dossier.pdf")
    flat = squash(pdf_text(path / "dossier.pdf"))
    for needle in INJECTIONS:
        assert squash(needle) in flat, f"not shown literally: {needle}"
    printable = [s for s in sample if s.isascii() and s.isprintable() and s.strip()]
    assert printable
    for s in printable:
        if any(s in v for v in text.values()):
            assert squash(s) in flat, f"naughty string not shown literally: {s!r}"
    data = json.loads((path / "dossier.json").read_text())
    assert any(t["text"] == text["note"] for t in data["timeline"])
    assert any(n["reason"] == text["reason"] for n in data["decisions_not_to_act"])
    assert data["client"]["name"] == text["client_name"]
    assert data["incident"]["summary"] == text["summary"]
    report = dossier.verify_dossier(path, key=keys.info().fingerprint, renderer=renderer)
    assert report.ok and report.content_checked and report.pdf_checked, report.problem


def test_long_unbroken_text_wraps_and_is_shown_whole(tmp_path, key_env):
    """Pasted base64 with no space: every character is on the page (wrapped at the column, nothing cut off)."""
    import base64

    blob = base64.b64encode(bytes(range(256)) * 59).decode()[:20_000]
    with Store.open(tmp_path / "db", create=True) as store:
        incident_id = populate(store, events=20, evidence=1, reviews=1, text={"note": blob})
        path = dossier.export(store, incident_id, out_dir=tmp_path / "out", generated_at=GENERATED)
    text = pdf_text(path / "dossier.pdf")
    running = ("CONFIDENTIAL", "Incident acme-", "Chain head ")  # page headers and footers between the note's lines
    body = "".join(line for line in text.splitlines() if not line.startswith(running))
    assert blob in squash(body)
    widest = max(len(line) for line in text.splitlines())
    assert widest < 400, "a line ran off the page instead of wrapping"


def test_fetcher_refuses_every_route_when_markup_reaches_weasyprint():
    """Defence in depth: even raw attacker HTML (bypassing autoescape) reaches nothing."""
    import weasyprint

    from msptui.export.pdf import STYLESHEET, TEMPLATES_DIR, make_fetcher

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    html = (
        f'<html><head><link rel="stylesheet" href="{STYLESHEET.resolve().as_uri()}">'
        '<link rel="attachment" href="file:///etc/passwd">'
        '<style>@import url("file:///etc/passwd"); @import url("http://127.0.0.1:9/x.css");</style></head><body>'
        f'<img src="http://127.0.0.1:{port}/x"><img src="file:///etc/hostname">'
        '<p style="background: url(file:///etc/passwd)">a</p>'
        '<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22%3E%3Cimage href=%22file:///etc/passwd%22/%3E%3C/svg%3E">'
        '<img src="../../../../etc/passwd"><img src="fonts/../../../etc/passwd">'
        '<object data="file:///etc/passwd"></object><embed src="file:///etc/passwd">'
        '</body></html>'
    )
    fetcher = make_fetcher()
    pdf = weasyprint.HTML(string=html, base_url=TEMPLATES_DIR.resolve().as_uri() + "/", url_fetcher=fetcher).write_pdf()
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()
    assert len(fetcher.refused) >= 7, fetcher.refused
    refused = " ".join(fetcher.refused)
    for needle in ["file:///etc/passwd", f"127.0.0.1:{port}", "127.0.0.1:9", "file:///etc/hostname", "data:"]:
        assert needle in refused, needle
    assert all(u.endswith((".css", ".ttf")) for u in fetcher.served)
    assert b"root:x:0:0" not in pdf and b"/EmbeddedFile" not in pdf


# ---------------------------------------------------------------------------
# determinism, atomicity, keys, child process
# ---------------------------------------------------------------------------


def test_same_data_same_timestamp_gives_identical_bytes(exported, tmp_path):
    shutil.copy(exported["db_before"], tmp_path / "again.db")
    with Store.open(tmp_path / "again.db") as store:
        again = dossier.export(store, exported["incident_id"], out_dir=tmp_path / "again", generated_at=GENERATED, local_tz="Europe/Berlin")
    first = exported["path"]
    assert sorted(p.name for p in again.iterdir()) == sorted(p.name for p in first.iterdir())
    for p in first.iterdir():
        assert (again / p.name).read_bytes() == p.read_bytes(), f"{p.name} differs between renders"


def test_existing_target_is_refused(exported):
    from msptui.errors import UserError

    with Store.open(exported["db"]) as store, pytest.raises(UserError, match="already exists"):
        dossier.export(store, exported["incident_id"], out_dir=exported["base"] / "out", generated_at=GENERATED, renderer=fake_renderer)


def test_render_failure_leaves_no_folder(tmp_path, key_env):
    def boom(data: dict) -> bytes:
        raise RuntimeError("renderer crashed")

    out = tmp_path / "out"
    with Store.open(tmp_path / "db", create=True) as store:
        incident_id = populate(store, events=10, evidence=1, reviews=1)
        with pytest.raises(RuntimeError):
            dossier.export(store, incident_id, out_dir=out, generated_at=GENERATED, renderer=boom)
        assert not [e for e in store.events() if e.kind == "dossier.exported"], "a distribution recorded for nothing"
    assert not (out / "acme" / incident_id / "20250701T120000Z").exists()
    assert not out.exists() or not any(p.is_dir() and p.name.startswith(".") for p in out.rglob("*"))


def test_write_failure_midway_leaves_no_folder(tmp_path, key_env, monkeypatch):
    real_write = export_files.write_file
    calls = []

    def flaky(folder, name, body):
        calls.append(name)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_write(folder, name, body)

    monkeypatch.setattr(export_files, "write_file", flaky)
    out = tmp_path / "out"
    with Store.open(tmp_path / "db", create=True) as store:
        incident_id = populate(store, events=10, evidence=1, reviews=1)
        with pytest.raises(OSError):
            dossier.export(store, incident_id, out_dir=out, generated_at=GENERATED, renderer=fake_renderer)
        assert not [e for e in store.events() if e.kind == "dossier.exported"], "a distribution recorded for nothing"
    parent = out / "acme" / incident_id
    assert list(parent.iterdir()) == [], "partial or temporary folder left behind"


def test_a_database_that_cannot_record_the_export_gets_no_dossier(tmp_path, key_env, monkeypatch):
    """Every dossier is recorded (its distribution): a read-only or locked database is one line, and no folder."""
    from msptui.errors import UserError

    out = tmp_path / "out"
    with Store.open(tmp_path / "db", create=True) as store:
        incident_id = populate(store, events=10, evidence=1, reviews=1)
        keys.signer_for(store)

        def read_only(kind, payload):
            raise sqlite3.OperationalError("attempt to write a readonly database")

        monkeypatch.setattr(store, "append", read_only)
        with pytest.raises(UserError, match="cannot record its distribution .*readonly.*nothing was written"):
            dossier.export(store, incident_id, out_dir=out, generated_at=GENERATED, renderer=fake_renderer)
    assert list((out / "acme" / incident_id).iterdir()) == []


def test_private_key_never_in_the_dossier_and_kept_private(exported, key_env):
    from cryptography.hazmat.primitives import serialization

    private_pem = keys.private_path().read_bytes()
    key = serialization.load_pem_private_key(private_pem, password=None)
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    body = b"".join(line for line in private_pem.splitlines() if not line.startswith(b"-----"))
    for p in exported["path"].iterdir():
        content = p.read_bytes()
        assert raw not in content and body not in content and raw.hex().encode() not in content, p.name
    assert oct(keys.private_path().stat().st_mode & 0o777) == oct(0o600)
    assert oct(keys.key_dir().stat().st_mode & 0o777) == oct(0o700)
    assert (exported["path"] / "public_key.pem").read_bytes() == keys.info().public_pem


def test_keys_cli_init_refuses_to_replace_and_loose_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("MSPTUI_KEY_DIR", str(tmp_path / "k"))
    runner = CliRunner()
    nodb = ["--db", str(tmp_path / "none.db")]
    first = runner.invoke(main, [*nodb, "keys", "init", "--json"])
    assert first.exit_code == 0, first.output
    assert len(json.loads(first.stdout)["fingerprint"]) == 64
    second = runner.invoke(main, [*nodb, "keys", "init"])
    assert second.exit_code == 1 and "already exists" in second.stderr
    os.chmod(keys.private_path(), 0o644)
    from msptui.errors import UserError

    with pytest.raises(UserError, match="readable by others"):
        keys.sign(b"x")


def test_export_without_a_key_creates_and_pins_one_and_signs(tmp_path, monkeypatch):
    monkeypatch.setenv("MSPTUI_KEY_DIR", str(tmp_path / "no-keys-yet"))
    notices: list[str] = []
    with Store.open(tmp_path / "db", create=True) as store:
        incident_id = populate(store, events=10, evidence=1, reviews=1)
        path = dossier.export(store, incident_id, out_dir=tmp_path / "out", generated_at=GENERATED, renderer=fake_renderer,
                              privileged=True, notice=notices.append)
        pins = [e for e in store.events() if e.kind == "key.pinned"]
        report = dossier.verify_dossier(path, store=store, renderer=fake_renderer)
    fingerprint = keys.info().fingerprint
    assert report.ok and report.signed and report.fingerprint == fingerprint
    assert oct(keys.private_path().stat().st_mode & 0o777) == oct(0o600)
    assert [p.payload["fingerprint"] for p in pins] == [fingerprint] and pins[0].subject is None
    assert notices and fingerprint in notices[0]
    assert (path / "manifest.sig").exists() and (path / "public_key.pem").read_bytes() == keys.info().public_pem
    assert json.loads((path / "dossier.json").read_text())["marking"].startswith("Privileged & confidential")


def test_cli_export_runs_in_a_child_with_progress(exported, tmp_path):
    result = CliRunner().invoke(main, ["--db", str(exported["db"]), "export", exported["incident_id"], "--out", str(tmp_path),
                                       "--privileged", "--generated-at", "2025-07-02T09:00:00Z", "--json"])
    assert result.exit_code == 0, result.output
    path = Path(json.loads(result.stdout)["path"])
    assert path == tmp_path / "acme" / exported["incident_id"] / "20250702T090000Z"
    stages = re.findall(r"export: (\w+)", result.stderr)
    assert stages == ["collect", "render", "write", "sign", "done"]
    report = json.loads(result.stdout)
    assert report["signing_key"] == keys.info().fingerprint and report["recipients"] == []
    assert dossier.verify_dossier(path, store=None, key=keys.info().fingerprint).ok
    text = pdf_text(path / "dossier.pdf")
    assert "PRIVILEGED & CONFIDENTIAL" in text


def test_export_in_child_timeout_writes_nothing(exported, tmp_path):
    with pytest.raises(dossier.ExportFailed, match="timed out"):
        dossier.export_in_child(exported["db"], exported["incident_id"], out_dir=tmp_path, timeout=0.3)
    assert list(tmp_path.iterdir()) == []


def test_export_unknown_incident_is_a_user_error(exported, tmp_path):
    result = CliRunner().invoke(main, ["--db", str(exported["db"]), "export", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "no incident" in result.stderr


def test_dossier_modules_stay_headless():
    code = (
        "import sys, msptui.export, msptui.export.pdf, msptui.keys, msptui.cli.export\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('weasyprint', 'textual'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(Path(__file__).parent.parent))
    assert out.stdout.strip() == ""


def test_the_dossier_names_the_msp_from_its_record(tmp_path, monkeypatch):
    """Issue 14: the MSP's own record, not 'your MSP', on the cover; a name that looks like markup stays literal."""
    from msptui.export.pdf import render_html
    from msptui.models import Msp

    monkeypatch.setenv("MSPTUI_KEY_DIR", str(tmp_path / "keys"))
    with Store.open(tmp_path / "db", create=True) as store:
        incident_id = populate(store, events=5, evidence=0, reviews=0)
        unset = dossier.export(store, incident_id, out_dir=tmp_path / "a", generated_at=GENERATED, renderer=fake_renderer)
        store.put(Msp(name="Northwind <b>IT</b> & Co", address="400 Harbor Way, Portland"))
        named = dossier.export(store, incident_id, out_dir=tmp_path / "b", generated_at=GENERATED, renderer=fake_renderer)
    before = json.loads((unset / "dossier.json").read_text())
    after = json.loads((named / "dossier.json").read_text())
    assert before["msp"] is None and "not recorded (msptui msp set)" in render_html(before)
    assert after["msp"]["name"] == "Northwind <b>IT</b> & Co"
    html = render_html(after)
    assert "Northwind &lt;b&gt;IT&lt;/b&gt; &amp; Co" in html and "400 Harbor Way, Portland" in html
    assert "not recorded (msptui msp set)" not in html


def test_obligations_that_do_not_apply_are_in_appendix_a2_with_their_reasons(exported):
    """The obligations section points to Appendix A2 (it said 'Appendix A', the scope appendix), where every rule
    found not to apply is listed with its reason, apart from the obligations that carry a clock."""
    from msptui.export.pdf import render_html

    data = json.loads((exported["path"] / "dossier.json").read_text())
    html = render_html(data)
    assert "with the reason for each, are in Appendix A2." in html
    appendix = html[html.index('id="not-applicable"'):]
    assert data["obligations_not_applicable"]
    for o in data["obligations_not_applicable"]:
        assert o["rule_id"] in appendix and o["rule_id"] not in {x.get("rule_id") for x in data["obligations"]}
