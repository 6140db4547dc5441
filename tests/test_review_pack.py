"""The review pack: client-facing content, hostile text, the printed event, atomic writes, the CLI.

Real PDFs are rendered a few times (three demo clients, one hostile client,
one through the CLI's child process); checks that do not need a PDF pass a
stand-in renderer.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from msptui import review_pack
from msptui.demo import load_demo
from msptui.models import Client, Recommendation, Review, RiskAcceptance
from msptui.store import Store
from msptui.verify import verify

from .pdftools import pdf_text

TODAY = date(2026, 11, 27)
GENERATED = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)
FAKE_PDF = b"%PDF-1.7\n% stand-in renderer\n%%EOF\n"


def fake_renderer(data: dict) -> bytes:
    return FAKE_PDF


def pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def printed_events(store: Store) -> list:
    return [e for e in store.events() if e.kind == review_pack.EVENT_KIND]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo portfolio with a real pack for three clients."""
    base = tmp_path_factory.mktemp("review-pack")
    db = base / "msptui.db"
    packs = {}
    with Store.open(db, create=True) as store:
        load_demo(store, today=TODAY)
        for cid in ("bayview-logistics", "granite-peak-eng", "lakeshore-cpa"):
            printed = review_pack.write(store, cid, out_dir=base / cid, generated_at=GENERATED)
            packs[cid] = {"printed": printed, "text": pdf_text(printed.path)}
    return {"db": db, "base": base, "packs": packs}


# ---------------------------------------------------------------------------
# content
# ---------------------------------------------------------------------------


def test_bayview_covered_excluded_declined_with_dates_and_signature_block(demo):
    pack = demo["packs"]["bayview-logistics"]
    text, flat = pack["text"], squash(pack["text"])
    assert 1 <= pages(pack["printed"].path) <= 3
    assert "Bayview Logistics Pty Ltd" in text and "Business review pack" in text
    # covered, excluded, someone else's
    assert "What your MSP covers" in text
    assert squash("Operating-system patch management") in flat and squash("Schedule B §2.7") in flat
    assert "Not included in the agreement" in text and squash("Application allow-listing / ringfencing") in flat
    assert "Your responsibility" in text and "Provided by another provider" in text
    # declined: dates from the records, signed and not signed
    with Store.open(demo["db"]) as store:
        awareness = store.get(RiskAcceptance, "ra-bayview-awareness")
        mdr = store.get(RiskAcceptance, "ra-bayview-mdr")
    assert awareness.acknowledgement is not None and mdr.acknowledgement is None
    assert "Services you declined" in text
    assert awareness.decided_on.isoformat() in text and mdr.decided_on.isoformat() in text
    assert squash(f"Signed by {awareness.acknowledgement.signed_by} on {awareness.acknowledgement.signed_at.date().isoformat()}") in flat
    assert "Not signed" in text
    # items to resolve together: the posture findings, in plain words with labels, not ids
    assert "Items to resolve together" in text
    assert "A declined service has no signed acknowledgement" in text
    assert "A declined service is due to be confirmed again" in text
    assert "'mdr_soc'" not in text
    # the signature block names the client, the declined services and the lines to fill in
    assert squash("I acknowledge that Bayview Logistics Pty Ltd declined the following services recommended by") in flat
    block = text[text.index("Acknowledgement of declined services"):]
    assert squash(f"24x7 MDR / SOC monitoring and active response — declined {mdr.decided_on.isoformat()}") in squash(block)
    assert squash(f"declined {awareness.decided_on.isoformat()}") in squash(block)
    for line in ("Name", "Title", "Signature", "Date"):
        assert re.search(rf"^{line}\s*$", block, re.M), line


def test_granite_insurance_required_vs_policy_on_file_and_open_recommendation(demo):
    text = demo["packs"]["granite-peak-eng"]["text"]
    flat = squash(text)
    assert "Insurance the agreement expects of you" in text
    assert squash("Master Services Agreement MSA §12.3: minimum 1,000,000") in flat
    assert "Mesa Valley Insurance Co." in text and "USD 250,000" in text
    assert squash("The aggregate limit on file (USD 250,000) is below the 1,000,000 the agreement states.") in flat
    assert "Cyber insurance limit below the amount the agreement states" in text
    # the deferred recommendation is open
    assert "Open recommendations" in text
    assert squash("Raise the cyber limit to at least USD 1,000,000 as MSA §12.3 requires.") in flat
    assert "deferred on" in text
    # nothing declined: no signature block
    assert "You have not declined any recommended service." in text
    assert "Acknowledgement of declined services" not in text
    assert 1 <= pages(demo["packs"]["granite-peak-eng"]["printed"].path) <= 3


def test_lakeshore_clean_client(demo):
    text = demo["packs"]["lakeshore-cpa"]["text"]
    flat = squash(text)
    assert "Nothing in our records needs resolving at this review." in text
    assert "No recommendation is waiting for a decision." in text
    assert squash("The aggregate limit on file (USD 2,000,000) meets the 1,000,000 the agreement states.") in flat
    with Store.open(demo["db"]) as store:
        app = store.get(RiskAcceptance, "ra-lakeshore-appcontrol")
    last = max(r.on for r in app.reaffirmations)
    assert squash(f"last confirmed again {last.isoformat()}") in flat
    assert "Acknowledgement of declined services" in text  # a signed decline is still acknowledged at each review
    assert "Not signed" not in text
    assert 1 <= pages(demo["packs"]["lakeshore-cpa"]["printed"].path) <= 3


def test_collected_data_is_json_and_msp_name_is_configurable(demo, monkeypatch):
    with Store.open(demo["db"]) as store:
        data = review_pack.collect(store, "bayview-logistics", generated_at=GENERATED)
        assert json.loads(json.dumps(data)) == data
        assert data["msp"]["name"] == "your MSP"
        assert {d["item"]: d["signed"] for d in data["declined"]} == {"security_awareness": True, "mdr_soc": False}
        monkeypatch.setenv("MSPTUI_MSP_NAME", "Northwind Managed IT")
        assert review_pack.collect(store, "bayview-logistics", generated_at=GENERATED)["msp"]["signer"] == "Northwind Managed IT"
        named = review_pack.collect(store, "bayview-logistics", generated_at=GENERATED, msp_name="Acme IT")
        assert named["msp"]["name"] == "Acme IT"
        html = __import__("msptui.export.pdf", fromlist=["render_html"]).render_html(named, review_pack.TEMPLATE)
        assert "declined the following services recommended by Acme IT" in " ".join(html.split())


# ---------------------------------------------------------------------------
# the printed event
# ---------------------------------------------------------------------------


def test_each_print_records_one_event_matching_the_file(demo):
    with Store.open(demo["db"]) as store:
        events = printed_events(store)
        assert len(events) == 3
        for event in events:
            cid = event.payload["client_id"]
            printed = demo["packs"][cid]["printed"]
            assert event.id == printed.event_id
            assert event.payload == {
                "client_id": cid, "file_name": printed.path.name, "sha256": sha256_file(printed.path),
                "size": printed.path.stat().st_size, "generated_at": "2026-11-27T15:00:00Z", "path": str(printed.path.resolve()),
            }
        assert verify(store).ok


def test_cli_prints_in_a_child_records_once_and_verify_passes(tmp_path, cli, db_path):
    with Store.open(db_path, create=True) as store:
        load_demo(store, today=TODAY)
        head_before = store.head()[0]
    out = tmp_path / "packs"
    result = cli("review-pack", "bayview-logistics", "--out", str(out), "--generated-at", "2026-11-27T16:00:00Z", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    path = Path(answer["path"])
    assert path == out / "review-pack-20261127T160000Z.pdf"
    assert answer["sha256"] == sha256_file(path)
    assert re.findall(r"review-pack: (\w+)", result.stderr) == list(review_pack.STAGES)
    assert [p.name for p in out.iterdir()] == [path.name], "temporary file left behind"
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    with Store.open(db_path) as store:
        events = printed_events(store)
        assert len(events) == 1 and store.head()[0] == head_before + 1
        assert events[0].payload["sha256"] == answer["sha256"] and events[0].payload["client_id"] == "bayview-logistics"
    checked = cli("verify")
    assert checked.exit_code == 0, checked.output
    assert "I acknowledge that Bayview Logistics Pty Ltd" in " ".join(pdf_text(path).split())
    # plain output is the path
    again = cli("review-pack", "lakeshore-cpa", "--out", str(tmp_path / "plain"), "--generated-at", "2026-11-27T16:00:00Z")
    assert again.exit_code == 0 and again.stdout.strip() == str(tmp_path / "plain" / "review-pack-20261127T160000Z.pdf")


def test_unknown_client_exits_1_and_writes_nothing(tmp_path, cli, db_path):
    with Store.open(db_path, create=True) as store:
        load_demo(store, today=TODAY)
        head = store.head()
    out = tmp_path / "out"
    result = cli("review-pack", "no-such-client", "--out", str(out))
    assert result.exit_code == 1
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert errors == ["Error: no client with id 'no-such-client' (see 'msptui clients')"]
    assert not out.exists()
    with Store.open(db_path) as store:
        assert store.head() == head


# ---------------------------------------------------------------------------
# writing: default folder, atomicity, recording only what is in place
# ---------------------------------------------------------------------------


def test_default_folder_and_existing_target_refused(store, tmp_path, monkeypatch):
    monkeypatch.setenv("MSPTUI_EXPORT_DIR", str(tmp_path / "exports"))
    load_demo(store, today=TODAY)
    printed = review_pack.write(store, "lakeshore-cpa", generated_at=GENERATED, renderer=fake_renderer)
    assert printed.path == tmp_path / "exports" / "lakeshore-cpa" / "review-pack-20261127T150000Z.pdf"
    assert printed.path.read_bytes() == FAKE_PDF and printed.sha256 == hashlib.sha256(FAKE_PDF).hexdigest()
    with pytest.raises(review_pack.UserError, match="already exists"):
        review_pack.write(store, "lakeshore-cpa", generated_at=GENERATED, renderer=fake_renderer)
    assert printed.path.read_bytes() == FAKE_PDF
    assert len(printed_events(store)) == 1


def test_render_failure_writes_and_records_nothing(store, tmp_path):
    load_demo(store, today=TODAY)
    head = store.head()

    def broken(data: dict) -> bytes:
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        review_pack.write(store, "bayview-logistics", out_dir=tmp_path / "out", generated_at=GENERATED, renderer=broken)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    assert store.head() == head


def test_failed_record_removes_the_file(store, tmp_path, monkeypatch):
    load_demo(store, today=TODAY)
    head = store.head()

    def refuse(kind, payload):
        raise review_pack.UserError("database locked")

    monkeypatch.setattr(store, "append", refuse)
    with pytest.raises(review_pack.UserError, match="locked"):
        review_pack.write(store, "bayview-logistics", out_dir=tmp_path / "out", generated_at=GENERATED, renderer=fake_renderer)
    assert list((tmp_path / "out").iterdir()) == []
    assert store.head() == head


# ---------------------------------------------------------------------------
# hostile text
# ---------------------------------------------------------------------------

INJECTIONS = [
    "<script>alert('x')</script>",
    "{{ 7*7 }} {% raw %}",
    "</td></tr></table><h1>PWNED</h1>",
    '"><link rel="attachment" href="file:///etc/passwd">',
    "background: url(file:///etc/passwd)",
    "\u202eevil\u202c & <b>bold</b>",
]


def test_hostile_text_is_literal_and_nothing_is_fetched(store, tmp_path):
    from msptui.export.pdf import make_fetcher, render_pdf

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    beacon = f'<img src="http://127.0.0.1:{port}/beacon">'

    load_demo(store, today=TODAY)
    client = store.get(Client, "lakeshore-cpa")
    name = f"{INJECTIONS[2]} Lakeshore {INJECTIONS[1]}"
    store.put(client.model_copy(update={"name": name}))
    store.put(Review(id="hostile-rev", client_id="lakeshore-cpa", held_on=TODAY, type="ad_hoc", recommendations=[
        Recommendation(id="r1", item="siem_logging", text="\n".join([beacon, *INJECTIONS]), decision="pending"),
    ]))
    store.put(RiskAcceptance(id="ra-hostile", client_id="lakeshore-cpa", item="siem_logging", recommended_on=TODAY,
                             recommendation=INJECTIONS[0] + " " + INJECTIONS[3], decision="declined", decided_on=TODAY))
    fetchers = []

    def renderer(data: dict) -> bytes:
        fetcher = make_fetcher()
        fetchers.append(fetcher)
        pdf, _report = render_pdf(data, fetcher=fetcher, template=review_pack.TEMPLATE, identifier=review_pack.identifier(data))
        return pdf

    printed = review_pack.write(store, "lakeshore-cpa", out_dir=tmp_path, generated_at=GENERATED, renderer=renderer)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing connected to the beacon
    listener.close()
    (fetcher,) = fetchers
    assert fetcher.refused == []
    assert fetcher.served and all(u.endswith((".css", ".ttf")) for u in fetcher.served)
    assert any(u.endswith("review_pack.css") for u in fetcher.served)
    raw = printed.path.read_bytes()
    assert b"root:x:0:0" not in raw and b"/EmbeddedFile" not in raw
    flat = squash(pdf_text(printed.path))
    for needle in [beacon, *INJECTIONS[:5], name]:
        assert squash(needle) in flat, f"not shown literally: {needle}"
    assert squash("\\u202eevil\\u202c & <b>bold</b>") in flat  # bidi overrides made visible, markup literal
    assert "PWNED" in flat and squash("<h1>PWNED</h1>") in flat


def test_printed_review_pack_appears_in_a_later_dossier(tmp_path):
    """The written education is evidence: the incident dossier lists the pack and its hash."""
    import json as _json
    from datetime import date as _date, datetime as _dt, timedelta as _td, timezone as _tz

    from click.testing import CliRunner as _Runner

    from msptui.cli import main as _main
    from msptui.demo import load_demo as _load
    from msptui.incidents import open_incident as _open
    from msptui.store import Store as _Store

    db = tmp_path / "rp.db"
    with _Store.open(db, create=True) as store:
        _load(store, today=_date(2026, 11, 27))
    packed = _Runner().invoke(_main, ["--db", str(db), "review-pack", "bayview-logistics", "--out", str(tmp_path / "rp"), "--json"])
    assert packed.exit_code == 0, packed.stderr
    sha = _json.loads(packed.stdout)["sha256"]
    with _Store.open(db) as store:
        inc, _ = _open(store, client_id="bayview-logistics", discovered=_dt.now(_tz.utc) - _td(hours=1),
                       tz="Australia/Sydney", category="ransomware", summary="x")
    out = _Runner().invoke(_main, ["--db", str(db), "export", inc.id, "--out", str(tmp_path / "dossier"), "--json"])
    assert out.exit_code == 0, out.stderr
    data = _json.loads((Path(_json.loads(out.stdout)["path"]) / "dossier.json").read_text())
    assert [p["sha256"] for p in data["review_packs"]] == [sha]
