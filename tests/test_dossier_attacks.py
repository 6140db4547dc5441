"""The dossier against someone who wants it to lie: every attack of issue 13, driven through the CLI on demo data.

An attacker with write access to a dossier folder (and, for some attacks, a
copy of msptui and their own key, or even the MSP's key) edits, fabricates,
deletes and re-seals. ``verify-dossier`` must exit 1 on each, or 3 where the
folder agrees with itself but nothing ties it to the MSP.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from msptui import keys
from msptui.chain import Event
from msptui.cli import main
from msptui.export import verify_dossier
from msptui.store import Store

GENERATED = "2025-07-01T12:00:00Z"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Demo data, one incident, one dossier exported through the CLI (its key created by that export)."""
    base = tmp_path_factory.mktemp("attacks")
    old = os.environ.get("MSPTUI_KEY_DIR")
    os.environ["MSPTUI_KEY_DIR"] = str(base / "keys")
    db = base / "demo.db"
    try:
        assert run("--db", str(db), "demo").exit_code == 0
        opened = run("--db", str(db), "incident", "open", "--client", "lakeshore-cpa", "--discovered", "2025-06-10T09:00",
                     "--category", "ransomware", "--summary", "Ransomware on FS01", "--json")
        incident = json.loads(opened.stdout)["id"]
        assert run("--db", str(db), "check", incident, "ins-notify-lakeshore-cyber", "--status", "done").exit_code in (0, 1)
        result = run("--db", str(db), "export", incident, "--out", str(base / "out"), "--generated-at", GENERATED,
                     "--to", "Jane Roe, Roe & Partners LLP", "--json")
        assert result.exit_code == 0, result.output
        assert "created the dossier signing key" in result.stderr
        out = json.loads(result.stdout)
        yield {"base": base, "db": db, "incident": incident, "path": Path(out["path"]), "fingerprint": out["signing_key"],
               "key_dir": base / "keys"}
    finally:
        if old is None:
            os.environ.pop("MSPTUI_KEY_DIR", None)
        else:
            os.environ["MSPTUI_KEY_DIR"] = old


@pytest.fixture
def folder(world, tmp_path):
    target = tmp_path / "dossier"
    shutil.copytree(world["path"], target)
    return target


def verify(world, folder: Path, *extra: str, db: bool = True):
    args = ["--db", str(world["db"])] if db else ["--db", str(world["base"] / "no-such.db")]
    return run(*args, "verify-dossier", str(folder), *extra)


# -- what an attacker does to re-seal a folder ---------------------------------------


def attacker_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def msp_key(world) -> Ed25519PrivateKey:
    """An insider's copy of the MSP's own private key."""
    pem = (world["key_dir"] / keys.PRIVATE_NAME).read_bytes()
    return serialization.load_pem_private_key(pem, password=None)


def reseal(folder: Path, key: Ed25519PrivateKey | None, *, manifest_edit=None) -> None:
    """Recompute every size and hash in the manifest, sign it with ``key`` (None: leave it unsigned), rewrite SHA256SUMS."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in ("manifest.sig", "SHA256SUMS"):
        (folder / name).unlink(missing_ok=True)
    if key is None:
        (folder / "public_key.pem").unlink(missing_ok=True)
        manifest["signed"], manifest["signature"] = False, None
    else:
        pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        (folder / "public_key.pem").write_bytes(pem)
        fingerprint = keys.fingerprint(pem)
        manifest["signature"]["public_key_sha256"] = fingerprint
        manifest["rebuild"]["signing_key"] = fingerprint
    names = sorted(p.name for p in folder.iterdir() if p.name != "manifest.json")
    manifest["files"] = [{"name": n, "size": (folder / n).stat().st_size,
                          "sha256": hashlib.sha256((folder / n).read_bytes()).hexdigest()} for n in names]
    if manifest_edit:
        manifest_edit(manifest)
    body = (json.dumps(manifest, indent=2) + "\n").encode()
    (folder / "manifest.json").write_bytes(body)
    if key is not None:
        (folder / "manifest.sig").write_bytes(key.sign(body))
    listed = sorted(p.name for p in folder.iterdir())
    (folder / "SHA256SUMS").write_text("".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in listed))


def read_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def write_lines(folder: Path, lines: list[dict]) -> None:
    (folder / "events.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=True, sort_keys=True, separators=(",", ":")) + "\n" for line in lines))


def failed(result, *needles: str) -> None:
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = [ln for ln in result.stderr.splitlines() if not ln.startswith("msptui: database")]
    assert len(lines) == 1 and lines[0].startswith("FAILED: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# ---------------------------------------------------------------------------
# the genuine dossier
# ---------------------------------------------------------------------------


def test_the_genuine_dossier_is_intact_and_anchored(world, folder):
    assert verify(world, folder).exit_code == 0
    assert verify(world, folder, "--no-db").exit_code == 3
    assert verify(world, folder, db=False).exit_code == 3
    anchored = verify(world, folder, "--no-db", "--key", world["fingerprint"])
    assert anchored.exit_code == 0, anchored.output
    head = json.loads((folder / "manifest.json").read_text())["chain_head"]["hash"]
    assert verify(world, folder, "--no-db", "--key", world["fingerprint"], "--head", head).exit_code == 0
    report = json.loads(verify(world, folder, "--json").stdout)
    assert report["ok"] and report["anchored"] and report["content_checked"] and report["pdf_checked"]
    assert report["distribution_event"] and report["key_pinned_event"]


# ---------------------------------------------------------------------------
# 1. a fabricated folder
# ---------------------------------------------------------------------------


def test_fabricated_folder_with_copied_head_and_own_key_fails(world, tmp_path):
    genuine = json.loads((world["path"] / "manifest.json").read_text())
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "dossier.pdf").write_bytes(b"%PDF-1.7\n% anything\n%%EOF\n")
    (fake / "dossier.json").write_text(json.dumps({"chain_head": genuine["chain_head"], "incident": {"id": world["incident"]},
                                                   "client": {"id": "lakeshore-cpa", "name": "Lakeshore"}}))
    (fake / "events.jsonl").write_text("")
    (fake / "VERIFY.txt").write_text("trust me\n")
    (fake / "manifest.json").write_text(json.dumps({**genuine, "files": []}))
    reseal(fake, attacker_key())
    failed(verify(world, fake), "events.jsonl")
    failed(verify(world, fake, "--no-db"), "events.jsonl")
    failed(verify(world, fake, "--no-db", "--key", world["fingerprint"]))


def test_self_consistent_forgery_from_the_attackers_own_database(world, tmp_path):
    """The attacker runs msptui on a database of their own making: the folder agrees with itself (exit 3 without an
    anchor), but it is not the MSP's: the database and the MSP's key fingerprint both say so."""
    env_keys = os.environ["MSPTUI_KEY_DIR"]
    os.environ["MSPTUI_KEY_DIR"] = str(tmp_path / "attacker-keys")
    try:
        fake_db = tmp_path / "fake.db"
        assert run("--db", str(fake_db), "demo").exit_code == 0
        opened = run("--db", str(fake_db), "incident", "open", "--client", "lakeshore-cpa", "--discovered",
                     "2025-06-10T09:00", "--category", "ransomware", "--summary", "nothing happened", "--json")
        incident = json.loads(opened.stdout)["id"]
        result = run("--db", str(fake_db), "export", incident, "--out", str(tmp_path / "out"), "--json")
        forged = Path(json.loads(result.stdout)["path"])
    finally:
        os.environ["MSPTUI_KEY_DIR"] = env_keys
    assert verify(world, forged, "--no-db").exit_code == 3, "intact but not anchored"
    failed(verify(world, forged))
    failed(verify(world, forged, "--no-db", "--key", world["fingerprint"]), "not by the key you gave")


# ---------------------------------------------------------------------------
# 2. edited content, re-sealed with any key
# ---------------------------------------------------------------------------


def _edit_content(folder: Path) -> None:
    data = json.loads((folder / "dossier.json").read_text())
    data["client"]["name"] = "Someone Else Entirely LLC"
    for item in data["checklist"]:
        item["status"] = "done"
    (folder / "dossier.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    (folder / "dossier.pdf").write_bytes(b"%PDF-1.7\n% every step done\n%%EOF\n")


@pytest.mark.parametrize("sealer", ["attacker", "msp"])
def test_edited_json_and_pdf_resealed_fail(world, folder, sealer):
    """Client name changed, every checklist item 'done', any PDF: the content no longer follows from the events.
    Re-sealed with the attacker's key the key is not pinned; even an insider with the MSP's key cannot pass."""
    _edit_content(folder)
    reseal(folder, attacker_key() if sealer == "attacker" else msp_key(world))
    why = "not pinned" if sealer == "attacker" else "dossier.json does not match its events: client.name"
    failed(verify(world, folder), why)
    failed(verify(world, folder, "--no-db"), why)
    failed(verify(world, folder, "--no-db", "--key", world["fingerprint"]))


@pytest.mark.parametrize("swap", ["unrelated", "appended"])
def test_a_swapped_or_edited_pdf_resealed_with_the_msps_key_fails(world, folder, swap):
    """dossier.json untouched, the PDF replaced (or an incremental update appended, which a viewer shows): even
    signed with the MSP's own key, the PDF is not what dossier.json renders to."""
    body = (folder / "dossier.pdf").read_bytes()
    (folder / "dossier.pdf").write_bytes(b"%PDF-1.4\n% an unrelated document\n%%EOF\n" if swap == "unrelated"
                                         else body + b"\n% incremental update: page 1 replaced\n%%EOF\n")
    reseal(folder, msp_key(world))
    failed(verify(world, folder), "dossier.pdf is not what dossier.json renders to")
    failed(verify(world, folder, "--no-db", "--key", world["fingerprint"]), "dossier.pdf")


def test_edited_verify_instructions_fail(world, folder):
    text = (folder / "VERIFY.txt").read_text().replace(world["fingerprint"], "f" * 64)
    (folder / "VERIFY.txt").write_text(text)
    reseal(folder, msp_key(world))
    failed(verify(world, folder), "VERIFY.txt")


# ---------------------------------------------------------------------------
# 3. the attacker's key pair in place of the MSP's
# ---------------------------------------------------------------------------


def test_replaced_public_key_and_signature_fail(world, folder):
    reseal(folder, attacker_key())
    failed(verify(world, folder), "not pinned")
    failed(verify(world, folder, "--no-db"), "not pinned")
    failed(verify(world, folder, "--no-db", "--key", world["fingerprint"]))


def test_attackers_key_pinned_in_a_rewritten_history_fails_against_the_db_and_the_key(world, folder):
    """Re-pin the attacker's key in events.jsonl (rewriting every later hash): self-consistent, not the MSP's."""
    key = attacker_key()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    lines = read_lines(folder)
    prev = None
    for index, line in enumerate(lines):
        if line.get("kind") == "key.pinned":
            line["payload"] = {**line["payload"], "fingerprint": keys.fingerprint(pem), "public_key": pem.decode()}
        if prev is not None or line.get("kind") == "key.pinned":
            event = Event.from_json({**line, "prev_hash": prev or line["prev_hash"]})
            line.update(prev_hash=event.prev_hash, hash=event.compute_hash())
            prev = line["hash"]
    write_lines(folder, lines)
    head = {"id": lines[-1]["id"], "hash": lines[-1]["hash"]}

    def edit(manifest):
        manifest["chain_head"] = head

    data = json.loads((folder / "dossier.json").read_text())
    data["chain_head"] = head
    (folder / "dossier.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    reseal(folder, key, manifest_edit=edit)
    failed(verify(world, folder))
    failed(verify(world, folder, "--no-db", "--key", world["fingerprint"]))
    assert verify(world, folder, "--no-db").exit_code == 1  # the PDF and JSON still name the old head


# ---------------------------------------------------------------------------
# 4. events removed from events.jsonl
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("sealer", ["attacker", "msp"])
def test_one_event_deleted_from_the_middle_fails(world, folder, sealer):
    lines = read_lines(folder)
    del lines[len(lines) // 2]
    write_lines(folder, lines)
    reseal(folder, attacker_key() if sealer == "attacker" else msp_key(world))
    failed(verify(world, folder), "events.jsonl")
    failed(verify(world, folder, "--no-db"), "events.jsonl")


def test_every_agreement_event_deleted_fails(world, folder):
    lines = [line for line in read_lines(folder) if line.get("kind") != "agreements.put"]
    write_lines(folder, lines)
    reseal(folder, msp_key(world))
    failed(verify(world, folder), "events.jsonl")
    failed(verify(world, folder, "--no-db", "--key", world["fingerprint"]), "events.jsonl")


def test_every_agreement_event_deleted_and_the_chain_relinked_fails(world, folder):
    """Drop the agreements and re-seal every later hash and id: the chain is self-consistent but the content is not."""
    kept, prev = [], "0" * 64
    for line in read_lines(folder):
        if line.get("kind") == "agreements.put" and line.get("subject") == "lakeshore-cpa":
            continue
        if "payload" not in line:  # another client's header: cannot be re-hashed consistently with a new id...
            continue                # ...so the forger drops those too
        line = {**line, "id": len(kept) + 1, "prev_hash": prev}
        line["hash"] = Event.from_json(line).compute_hash()
        prev = line["hash"]
        kept.append(line)
    write_lines(folder, kept)
    head = {"id": kept[-1]["id"], "hash": kept[-1]["hash"]}
    data = json.loads((folder / "dossier.json").read_text())
    data["chain_head"] = head
    (folder / "dossier.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    reseal(folder, msp_key(world), manifest_edit=lambda m: m.update(chain_head=head))
    failed(verify(world, folder))
    failed(verify(world, folder, "--no-db", "--key", world["fingerprint"]))


def test_a_client_event_reduced_to_its_header_is_withheld(world, folder):
    lines = read_lines(folder)
    index = next(i for i, line in enumerate(lines) if line.get("kind") == "agreements.put" and line.get("subject") == "lakeshore-cpa")
    event = Event.from_json(lines[index])
    lines[index] = {**event.header(), "hash": event.hash}
    write_lines(folder, lines)
    reseal(folder, msp_key(world))
    failed(verify(world, folder, "--no-db", "--key", world["fingerprint"]), "withheld")
    failed(verify(world, folder), "withheld")


def test_truncated_events_jsonl_fails(world, folder):
    lines = read_lines(folder)
    write_lines(folder, lines[:-3])
    reseal(folder, msp_key(world))
    failed(verify(world, folder, "--no-db", "--key", world["fingerprint"]), "events.jsonl")


def test_no_other_clients_content_is_shipped(world):
    lines = read_lines(world["path"])
    full = [line for line in lines if "payload" in line]
    assert {line["subject"] for line in full} <= {"lakeshore-cpa", None}
    other = [line for line in lines if "payload" not in line]
    assert other and all(set(line) == {"v", "id", "subject", "kind", "body_sha256", "prev_hash", "hash"} for line in other)
    raw = (world["path"] / "events.jsonl").read_text() + (world["path"] / "dossier.json").read_text()
    assert "sunvale" not in raw.lower(), "another client's data is in the dossier"


# ---------------------------------------------------------------------------
# 5. the signature stripped
# ---------------------------------------------------------------------------


def test_stripped_signature_fails(world, folder):
    reseal(folder, None)
    failed(verify(world, folder), "not signed")
    failed(verify(world, folder, "--no-db"), "not signed")
    failed(verify(world, folder, "--no-db", "--key", world["fingerprint"]), "not signed")


def test_old_format_dossier_cannot_pass(world, folder):
    reseal(folder, attacker_key(), manifest_edit=lambda m: m.update(format_version=1))
    failed(verify(world, folder), "format")


# ---------------------------------------------------------------------------
# anchors: --key and --head given wrong
# ---------------------------------------------------------------------------


def test_wrong_key_or_head_fails(world, folder):
    failed(verify(world, folder, "--no-db", "--key", "a" * 64), "not by the key you gave")
    failed(verify(world, folder, "--no-db", "--key", world["fingerprint"], "--head", "b" * 64), "not in this dossier's history")
    bad = verify(world, folder, "--no-db", "--key", "xyz")
    assert bad.exit_code == 1 and "64 hexadecimal digits" in bad.stderr


# ---------------------------------------------------------------------------
# history rewritten in the database after the export
# ---------------------------------------------------------------------------


def test_database_rewritten_after_export_fails(world, folder, tmp_path):
    db = tmp_path / "rewritten.db"
    shutil.copy(world["db"], db)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    row = conn.execute("SELECT id FROM events WHERE kind = 'agreements.put' AND subject = 'lakeshore-cpa' LIMIT 1").fetchone()
    conn.execute("UPDATE events SET payload = json_set(payload, '$.record.title', 'Rewritten') WHERE id = ?", row)
    conn.close()
    result = run("--db", str(db), "verify-dossier", str(folder))
    failed(result, "event was edited")


def test_a_dossier_the_database_never_recorded_fails(world, folder, tmp_path):
    db = tmp_path / "unrecorded.db"
    shutil.copy(world["db"], db)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute("DELETE FROM events WHERE kind = 'dossier.exported'")
    conn.close()
    failed(run("--db", str(db), "verify-dossier", str(folder)), "records no export of this dossier")


# ---------------------------------------------------------------------------
# keys: retired, and a dossier claiming a time after the retirement
# ---------------------------------------------------------------------------


def test_retired_key(world, tmp_path, monkeypatch):
    monkeypatch.setenv("MSPTUI_KEY_DIR", str(tmp_path / "keys"))
    db = tmp_path / "db.db"
    shutil.copy(world["db"], db)
    # a key of this installation, pinned by 'keys init'
    init = run("--db", str(db), "keys", "init", "--json")
    assert init.exit_code == 0, init.output
    fingerprint = json.loads(init.stdout)["fingerprint"]
    later = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = json.loads(run("--db", str(db), "export", world["incident"], "--out", str(tmp_path / "o1"), "--json").stdout)["path"]
    after = json.loads(run("--db", str(db), "export", world["incident"], "--out", str(tmp_path / "o2"), "--generated-at",
                           later, "--json").stdout)["path"]
    assert run("--db", str(db), "verify-dossier", after).exit_code == 0
    retired = run("--db", str(db), "keys", "retire", "--reason", "laptop lost", "--json")
    assert retired.exit_code == 0, retired.output
    assert not keys.configured(), "the retired key's files were moved aside"
    shown = json.loads(run("--db", str(db), "keys", "show", "--json").stdout)
    assert shown["fingerprint"] is None and shown["recorded"][-1]["retired_event"]
    # a dossier generated before the retirement still verifies; one claiming a later generation time does not
    still = run("--db", str(db), "verify-dossier", before)
    assert still.exit_code == 0 and "not retired when this dossier was generated (retired since, at event" in still.stdout
    failed(run("--db", str(db), "verify-dossier", after), "retired")
    unanchored = run("--db", str(db), "verify-dossier", before, "--no-db")
    assert unanchored.stdout.count("database check") == 1, unanchored.stdout  # said once
    # the next export makes and pins a new key
    again = run("--db", str(db), "export", world["incident"], "--out", str(tmp_path / "o3"), "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["signing_key"] != fingerprint
    shown = json.loads(run("--db", str(db), "keys", "show", "--json").stdout)
    recorded = {k["fingerprint"]: k for k in shown["recorded"]}
    assert recorded[fingerprint]["retired_event"] and recorded[fingerprint]["reason"] == "laptop lost"
    assert shown["fingerprint"] != fingerprint and shown["pinned_event"]
    assert recorded[shown["fingerprint"]]["retired_event"] is None


# ---------------------------------------------------------------------------
# the distribution log
# ---------------------------------------------------------------------------


def test_every_export_is_recorded_and_listed_by_later_dossiers(world, tmp_path, monkeypatch):
    db = tmp_path / "db.db"
    shutil.copy(world["db"], db)
    first = json.loads(run("--db", str(db), "export", world["incident"], "--out", str(tmp_path / "a"), "--privileged",
                           "--to", "Jane Roe, Roe & Partners LLP", "--to", "Claims Desk, Harborline Mutual", "--json").stdout)
    second = json.loads(run("--db", str(db), "export", world["incident"], "--out", str(tmp_path / "b"), "--json").stdout)
    with Store.open(db) as store:
        log = [e for e in store.events() if e.kind == "dossier.exported"]
    assert len(log) == 3 and all(e.subject == "lakeshore-cpa" for e in log)
    manifest_sha = hashlib.sha256((Path(first["path"]) / "manifest.json").read_bytes()).hexdigest()
    entry = log[1].payload
    assert entry["manifest_sha256"] == manifest_sha and entry["privileged"] is True
    assert entry["recipients"] == [{"name": "Jane Roe", "organisation": "Roe & Partners LLP"},
                                   {"name": "Claims Desk", "organisation": "Harborline Mutual"}]
    assert entry["marking"].startswith("Privileged")
    data = json.loads((Path(second["path"]) / "dossier.json").read_text())
    listed = [(d["event_id"], d["recipients_text"]) for d in data["distributions"]]
    assert listed == [(log[0].id, "Jane Roe, Roe & Partners LLP"),
                      (log[1].id, "Jane Roe, Roe & Partners LLP; Claims Desk, Harborline Mutual")]
    first_data = json.loads((Path(first["path"]) / "dossier.json").read_text())
    assert first_data["recipients_text"] == "Jane Roe, Roe & Partners LLP; Claims Desk, Harborline Mutual"
    assert run("--db", str(db), "verify-dossier", second["path"]).exit_code == 0


@pytest.mark.parametrize("bad", ["", ", Org only", "Jane\x1b[2J, X", "Jane\n, X", "A" * 301, "Jane \u202eRoe, X"])
def test_bad_recipients_are_refused_and_nothing_is_written(world, tmp_path, bad):
    db = tmp_path / "db.db"
    shutil.copy(world["db"], db)
    before = db.read_bytes()
    result = run("--db", str(db), "export", world["incident"], "--out", str(tmp_path / "out"), "--to", bad)
    assert result.exit_code in (1, 2) and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and db.read_bytes() == before


# ---------------------------------------------------------------------------
# the cover and the export path
# ---------------------------------------------------------------------------


def test_cover_and_verify_txt_show_the_fingerprint(world):
    from .pdftools import pdf_text

    flat = "".join(pdf_text(world["path"] / "dossier.pdf").split())
    assert world["fingerprint"] in flat
    assert "Preparedfor" in flat and "JaneRoe,Roe&PartnersLLP" in flat
    verify_txt = (world["path"] / "VERIFY.txt").read_text()
    assert world["fingerprint"] in verify_txt and "OpenSSL 3.0 or later" in verify_txt


def test_a_symlink_in_the_export_path_is_refused(world, tmp_path):
    db = tmp_path / "db.db"
    shutil.copy(world["db"], db)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").symlink_to(elsewhere)
    result = run("--db", str(db), "export", world["incident"], "--out", str(tmp_path / "out"))
    assert result.exit_code == 1 and "symbolic link" in result.stderr
    assert list(elsewhere.iterdir()) == []
    planted = tmp_path / "out2"
    (planted / "lakeshore-cpa").mkdir(parents=True)
    (planted / "lakeshore-cpa" / world["incident"]).symlink_to(elsewhere)
    result = run("--db", str(db), "export", world["incident"], "--out", str(planted))
    assert result.exit_code == 1 and "symbolic link" in result.stderr
    assert list(elsewhere.iterdir()) == []
    with Store.open(db) as store:
        assert sum(1 for e in store.events() if e.kind == "dossier.exported") == 1, "no distribution recorded"


# ---------------------------------------------------------------------------
# a database from the released schema: encoding-1 events of other clients
# ---------------------------------------------------------------------------


def test_dossier_from_a_released_schema_database_links_legacy_events(tmp_path, monkeypatch):
    monkeypatch.setenv("MSPTUI_KEY_DIR", str(tmp_path / "keys"))
    db = tmp_path / "v2.db"
    shutil.copy(Path(__file__).with_name("data") / "schema" / "v2.db", db)
    os.chmod(db, 0o600)
    result = run("--db", str(db), "export", "sunvale-health-20261126-1", "--out", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    folder = Path(out["path"])
    lines = read_lines(folder)
    legacy = [line for line in lines if set(line) == {"v", "id", "prev_hash", "hash"}]
    assert len(legacy) == 17, "lakeshore-cpa's 17 encoding-1 events: hash links only"
    assert not any("lakeshore" in json.dumps(line) for line in lines)
    report = json.loads(run("--db", str(db), "verify-dossier", str(folder), "--no-db", "--key", out["signing_key"],
                            "--json").stdout)
    assert report["exit_code"] == 0 and report["legacy_events"] == 17
    assert any("17 legacy events linked but not content-checked" in c for c in report["checks"])
    assert run("--db", str(db), "verify-dossier", str(folder)).exit_code == 0
    # a sunvale event reduced to a legacy link is caught against the database (the file alone cannot tell)
    index = next(i for i, line in enumerate(lines)
                 if "payload" in line and "v" not in line and line["payload"].get("type") == "agreements")
    lines[index] = {"v": 1, "id": lines[index]["id"], "prev_hash": lines[index]["prev_hash"], "hash": lines[index]["hash"]}
    write_lines(folder, lines)
    key = serialization.load_pem_private_key((tmp_path / "keys" / keys.PRIVATE_NAME).read_bytes(), password=None)
    reseal(folder, key, manifest_edit=lambda m: m["chain"].update(full=m["chain"]["full"] - 1,
                                                                  legacy_links=m["chain"]["legacy_links"] + 1))
    failed(run("--db", str(db), "verify-dossier", str(folder)))


# ---------------------------------------------------------------------------
# hostile JSON in the folder: one line, exit 1
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("where, body", [
    ("manifest.json", "[" * 100_000 + "]" * 100_000),
    ("manifest.json", '{"format": "msptui-dossier-manifest", "format_version": ' + "9" * 50_000 + "}"),
    ("manifest.json", '{"format": "msptui-dossier-manifest", "format_version": 1e999}'),
    ("dossier.json", '{"a": ' * 10_000 + "1" + "}" * 10_000),
    ("dossier.json", '{"client": {"id": NaN}}'),
    ("events.jsonl", '{"id": ' + "7" * 10_000 + "}\n"),
    ("events.jsonl", "[" * 50_000 + "]" * 50_000 + "\n"),
])
def test_hostile_json_in_a_dossier_is_one_line(world, folder, where, body):
    (folder / where).write_text(body)
    if where != "manifest.json":
        reseal(folder, msp_key(world))
    for extra in ((), ("--no-db",), ("--json",)):
        result = verify(world, folder, *extra)
        assert result.exit_code == 1 and "Traceback" not in result.output
        if extra == ("--json",):
            assert json.loads(result.stdout)["problem"]
        else:
            failed(result)


# ---------------------------------------------------------------------------
# a verifier whose data files or renderer differ says which check did not run
# ---------------------------------------------------------------------------


def test_other_data_files_say_the_content_check_did_not_run(world, folder, monkeypatch):
    import importlib

    from msptui.export import rebuild

    collect_mod = importlib.import_module("msptui.export.collect")  # the module (the package exports the function)
    real_inputs, real_collect = rebuild.content_inputs, collect_mod.collect

    def other_inputs():
        inputs = real_inputs()
        inputs["files"] = {**inputs["files"], "data/obligations.toml": "0" * 64}
        return inputs

    def other_rules(*args, **kwargs):  # what a newer rules file would change
        data, events = real_collect(*args, **kwargs)
        data["obligations"] = []
        return data, events

    monkeypatch.setattr(rebuild, "content_inputs", other_inputs)
    with Store.open(world["db"]) as store:
        same = verify_dossier(folder, store=store)
        assert same.ok and same.content_checked, "the rebuild still matched: checked, whatever the data files"
        monkeypatch.setattr(collect_mod, "collect", other_rules)
        report = verify_dossier(folder, store=store)
    assert report.exit_code == 0 and not report.content_checked
    (note,) = [n for n in report.not_checked if n.startswith("dossier.json")]
    assert "data/obligations.toml differs" in note and "obligations" in note
    result = verify(world, folder)  # the CLI names it too (in-process: the patches hold)
    assert "NOT checked: dossier.json could not be checked" in result.stdout


def test_no_weasyprint_says_the_pdf_check_did_not_run(world, folder, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint -> ImportError
    report = verify_dossier(folder, key=world["fingerprint"])
    assert report.exit_code == 0 and report.content_checked and not report.pdf_checked
    assert any("WeasyPrint is not available here" in n for n in report.not_checked)


def test_another_renderer_says_the_pdf_check_did_not_run(world, folder, monkeypatch):
    from msptui.export import bundle, rebuild

    real = rebuild.renderer_inputs
    monkeypatch.setattr(rebuild, "renderer_inputs", lambda: {**real(), "weasyprint": "99.0"})
    monkeypatch.setattr(bundle, "render", lambda data: b"%PDF-1.7 laid out differently\n")
    report = verify_dossier(folder, key=world["fingerprint"])
    assert report.exit_code == 0 and not report.pdf_checked
    assert any("weasyprint 70" in n and "renders other bytes" in n for n in report.not_checked), report.not_checked
