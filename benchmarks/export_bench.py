"""Benchmark: dossier export of a typical and a large incident.

Run: ``.venv/bin/python benchmarks/export_bench.py [--only typical|large] [--keep DIR]``

Each case runs in a fresh child process (the way the CLI and TUI export) and
prints, side by side:

* ``export``    our whole export (collect + HTML + PDF + write + sign), wall time
  of ``dossier.export_in_child`` including the child's start-up;
* ``weasyprint`` WeasyPrint alone on the same HTML (HTML() + write_pdf()),
  timed in another fresh process: the floor we cannot beat without changing
  the document;
* peak RSS of the child processes (``resource.getrusage(RUSAGE_CHILDREN)``).

Targets on a 2-core machine: typical < 4 s, large < 15 s, peak < 300 MiB.
``populate`` is also used by tests/test_dossier.py to build incidents.
A standalone script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from msptui.models import (  # noqa: E402
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
from msptui.store import Store  # noqa: E402

CASES = {
    "typical": {"events": 200, "evidence": 50, "reviews": 20, "target_s": 4.0},
    "large": {"events": 3000, "evidence": 500, "reviews": 20, "target_s": 15.0},
}
TARGET_MIB = 300
DISCOVERED = datetime(2025, 6, 10, 14, 30, tzinfo=timezone.utc)
SIGNED = {
    "status": "signed",
    "signed_at": "2025-01-02T15:00:00Z",
    "method": "e_signature",
    "signatories": [{"name": "Pat MSP", "side": "msp"}, {"name": "Chris Client", "side": "client"}],
}


def populate(
    store: Store,
    *,
    events: int = 40,
    evidence: int = 5,
    reviews: int = 3,
    client_id: str = "acme",
    text: dict[str, str] | None = None,
    checklist_items: int = 12,
) -> str:
    """Build a client with a contract stack, insurance, reviews and one ransomware incident.

    ``events`` is roughly the number of timeline entries (record events of the
    incident's records plus notes); ``text`` overrides record text fields
    (client_name, summary, note, evidence_name, topic, clause, reason) with
    e.g. hostile strings. Returns the incident id.
    """
    t = {"client_name": "Acme Dental Group", "summary": "Ransomware encrypted the file server; ransom note found on FS01.",
         "note": "Isolated FS01 from the network", "evidence_name": "fs01-memory.raw", "topic": "Backup immutability",
         "clause": "Provider's aggregate liability is limited to the fees paid in the twelve months before the claim.",
         "reason": "Counsel advised no regulator notice: no personal data on FS01 (decided with J. Smith, counsel)",
         **(text or {})}
    incident_id = f"{client_id}-20250610-1"
    recs: list = []
    recs.append(Client.model_validate({
        "id": client_id, "name": t["client_name"], "engagement": "managed", "home_tz": "America/New_York",
        "countries": ["US"], "us_states": ["NY", "CA"], "data_held": ["pii", "phi"],
        "contacts": [{"name": "Chris Client", "role": "primary", "email": "chris@example.com"}],
    }))
    recs.append(Agreement.model_validate({
        "id": f"{client_id}-msa", "client_id": client_id, "type": "msa", "title": "Master Services Agreement",
        "version": 1, "effective_from": "2025-01-01", "signature": SIGNED,
        "clauses": [
            {"kind": "limitation_of_liability", "section": "MSA §11.2", "text": t["clause"]},
            {"kind": "security_disclaimer", "section": "MSA §8.1", "text": "No security service can prevent every incident."},
            {"kind": "client_insurance_required", "section": "MSA §12.3",
             "text": "Client shall maintain cyber liability insurance of not less than USD 1,000,000.", "amount": 1000000},
        ],
        "scope": [{"item": "rmm_monitoring", "state": "included", "clause": "MSA §3"}],
    }))
    recs.append(Agreement.model_validate({
        "id": f"{client_id}-sched-b-v2", "client_id": client_id, "type": "schedule", "title": "Schedule B",
        "version": 2, "parent_id": f"{client_id}-msa", "effective_from": "2025-03-01",
        "signature": {**SIGNED, "signed_at": "2025-03-01T15:00:00Z"},
        "scope": [
            {"item": "edr", "state": "included", "clause": "Schedule B §3"},
            {"item": "patch_os", "state": "included", "clause": "Schedule B §3.2"},
            {"item": "backup_onprem", "state": "declined", "clause": "Schedule B §4"},
            {"item": "patch_thirdparty", "state": "declined", "clause": "Schedule B §4.1"},
            {"item": "mfa", "state": "client_responsibility", "clause": "Schedule B §5"},
            {"item": "remote_access", "state": "third_party", "clause": "Schedule B §6"},
            {"item": "mdr_soc", "state": "excluded", "clause": "Schedule B §7"},
        ],
    }))
    recs.append(RiskAcceptance.model_validate({
        "id": f"{client_id}-ra-backup", "client_id": client_id, "item": "backup_onprem",
        "recommendation": "Immutable off-site backups", "recommended_on": "2025-02-01", "review_id": f"{client_id}-rev-1",
        "decision": "declined", "decided_on": "2025-02-15",
        "acknowledgement": {"signed_by": "Chris Client", "signed_at": "2025-02-16T10:00:00Z"},
    }))
    recs.append(RiskAcceptance.model_validate({
        "id": f"{client_id}-ra-patch3p", "client_id": client_id, "item": "patch_thirdparty",
        "recommendation": "Third-party patching", "recommended_on": "2025-02-01", "decision": "declined",
        "decided_on": "2025-02-20",
    }))
    recs.append(InsurancePolicy.model_validate({
        "id": f"{client_id}-cyber", "owner": "client", "client_id": client_id, "type": "cyber",
        "carrier": "Harborline Mutual", "policy_number": "HM-1", "period_start": "2025-01-01", "period_end": "2025-12-31",
        "limit_aggregate": 1000000, "retention": 10000, "sublimits": {"ransomware": 500000},
        "notice": {"kind": "fixed", "hours": 72, "text": "Written notice within 72 hours of discovery."},
        "hotline": "+1 800-555-0110", "claims_email": "claims@harborline.example",
    }))
    recs.append(InsurancePolicy.model_validate({
        "id": "msp-eo", "owner": "msp", "type": "tech_eo", "carrier": "Assured Tech E&O", "policy_number": "ATE-9",
        "period_start": "2025-01-01", "period_end": "2025-12-31", "limit_aggregate": 2000000,
        "notice": {"kind": "asap", "internal_target_hours": 48},
    }))
    for n in range(reviews):
        held = date(2025, 1, 10) + timedelta(days=n * 7)
        recs.append(Review.model_validate({
            "id": f"{client_id}-rev-{n + 1}", "client_id": client_id, "held_on": held.isoformat(), "type": "qbr",
            "attendees_msp": ["Pat MSP"], "attendees_client": ["Chris Client"],
            "topics": [t["topic"], f"Patch status {n + 1}"], "security_education": ["Phishing refresher"] if n % 2 else [],
            "recommendations": [
                {"id": "r1", "item": "backup_onprem", "text": "Immutable off-site backups", "decision": "declined", "decided_on": held.isoformat()},
                {"id": "r2", "item": "mfa", "text": "Enforce MFA for all remote access", "decision": "pending"},
            ],
        }))
    recs.append(Incident.model_validate({
        "id": incident_id, "client_id": client_id, "category": "ransomware", "summary": t["summary"],
        "discovered": {"at": DISCOVERED.isoformat(), "tz": "America/New_York"}, "reported_by": "Pat MSP",
        "data_types": ["pii"], "countries": ["US"], "us_states": ["NY"],
        "assessment": [
            {"rule_id": "us.ny.breach", "applies": True, "party": "client", "reason": "NY residents' PII held",
             "due": (DISCOVERED + timedelta(days=30)).isoformat(), "basis": "30 calendar days"},
            {"rule_id": "us.hipaa.hhs", "applies": False, "party": "client", "reason": "no PHI on the affected systems"},
        ],
    }))
    sections = ["insurance", "insurance", "communication", "evidence", "containment", "notification"]
    items = []
    for n in range(checklist_items):
        section = sections[n % len(sections)]
        title = {0: "Send written notice of the incident to Harborline Mutual", 1: "Get Harborline Mutual's written consent before hiring vendors"}.get(n, f"Step {n + 1}: {section} task")
        items.append(ChecklistItem.model_validate({
            "id": f"{incident_id}:step-{n + 1}", "incident_id": incident_id, "client_id": client_id,
            "step": "ins-consent" if n == 1 else f"step-{n + 1}", "title": title, "section": section, "order": n,
            "rule": "us.ny.breach" if section == "notification" else None,
            "due": (DISCOVERED + timedelta(hours=72)).isoformat() if n == 0 else None,
        }))
    recs += items
    for n in range(evidence):
        at = DISCOVERED + timedelta(hours=1, minutes=n)
        recs.append(Evidence.model_validate({
            "id": f"{incident_id}:ev-{n + 1}", "incident_id": incident_id, "client_id": client_id,
            "name": t["evidence_name"] if n == 0 else f"artifact-{n + 1:04d}.bin", "sha256": f"{n:064x}", "size": 1024 * (n + 1),
            "acquired": {"at": at.isoformat(), "tz": "America/New_York"}, "acquired_by": "pat",
            "source": f"/mnt/fs01/evidence/{n + 1}", "method": "file hashed in place by msptui (SHA-256, streamed)",
            "custody": [
                {"at": at.isoformat(), "by": "pat", "action": "acquired and hashed", "location": "/mnt/fs01"},
                {"at": (at + timedelta(hours=2)).isoformat(), "by": "sam", "action": "transferred to evidence locker", "location": "Locker 3"},
            ],
        }))
    store.put_many(recs)
    base = 1 + checklist_items + evidence  # creation events shown in the timeline
    remaining = max(events - base, 0)
    n_notes = remaining // 2  # a note is one timeline entry (its creation event is folded in)
    batch: list = []
    for n in range(n_notes):
        batch.append(Note.model_validate({
            "id": f"{incident_id}:note-{n + 1}", "incident_id": incident_id, "client_id": client_id,
            "at": {"at": (DISCOVERED + timedelta(minutes=5 * n)).isoformat(), "tz": "America/New_York"},
            "author": "pat", "text": t["note"] if n == 0 else f"Progress note {n + 1}: checked host WS{n:03d}, no encryption found.",
        }))
    # item updates: notes appended, statuses changed (each one event)
    updates = remaining - n_notes
    current = {i.id: i for i in items}
    order = list(current)
    for n in range(updates):
        key = order[n % len(order)]
        item = current[key]
        update = {"notes": [*item.notes, f"update {n + 1}"], "updated_by": "pat",
                  "updated_at": (DISCOVERED + timedelta(minutes=7 * n + 3)).isoformat()}
        if n == 0:
            update["status"] = "done"
        if key.endswith(":step-6") and item.status != "not_applicable":
            update["status"] = "not_applicable"
            update["reason"] = t["reason"]
        current[key] = ChecklistItem.model_validate({**item.model_dump(mode="json"), **update})
        batch.append(current[key])
    for start in range(0, len(batch), 500):
        chunk = batch[start:start + 500]
        with store.transaction():
            for rec in chunk:
                store.put_in_transaction(rec)
    return incident_id


# ---------------------------------------------------------------------------
# the benchmark
# ---------------------------------------------------------------------------

_WEASY_ONLY = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
data = json.loads(Path(sys.argv[1]).read_text())
from msptui.export.pdf import render_html, make_fetcher, TEMPLATES_DIR
html = render_html(data)
t0 = time.perf_counter()
import weasyprint
doc = weasyprint.HTML(string=html, base_url=TEMPLATES_DIR.resolve().as_uri() + "/", url_fetcher=make_fetcher())
pdf = doc.write_pdf()
print(json.dumps({"seconds": time.perf_counter() - t0, "bytes": len(pdf)}))
"""


def _peak_children_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_case(name: str, spec: dict, workdir: Path) -> dict:
    from msptui.export import export_in_child

    db = workdir / f"{name}.db"
    with Store.open(db, create=True) as store:
        t0 = time.perf_counter()
        incident_id = populate(store, events=spec["events"], evidence=spec["evidence"], reviews=spec["reviews"], checklist_items=40,
                               client_id=f"bench-{name}")
        setup = time.perf_counter() - t0
    stages: list[tuple[str, float]] = []
    start = time.perf_counter()
    path = export_in_child(db, incident_id, out_dir=workdir / "out", progress=lambda s: stages.append((s, time.perf_counter() - start)),
                           generated_at=datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc))
    ours = time.perf_counter() - start
    peak_ours = _peak_children_mib()
    pdf_size = (path / "dossier.pdf").stat().st_size
    data = json.loads((path / "dossier.json").read_text())
    pages = _pages(path / "dossier.pdf")
    out = subprocess.run([sys.executable, "-c", _WEASY_ONLY, str(path / "dossier.json"), str(Path(__file__).resolve().parent.parent)],
                         capture_output=True, text=True, check=True)
    weasy = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "case": name, "timeline": len(data["timeline"]), "evidence": len(data["evidence"]), "reviews": len(data["reviews"]),
        "pages": pages, "pdf_kib": pdf_size // 1024, "setup_s": setup, "export_s": ours,
        "weasyprint_s": weasy["seconds"], "peak_mib_after": peak_ours, "stages": stages, "target_s": spec["target_s"],
    }


def _pages(pdf: Path) -> int | str:
    try:
        out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))
    except Exception:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(CASES))
    parser.add_argument("--keep", metavar="DIR", help="keep the databases and dossiers in DIR")
    args = parser.parse_args()
    os.environ.setdefault("MSPTUI_KEY_DIR", tempfile.mkdtemp(prefix="msptui-bench-keys-"))
    from msptui import keys

    if not keys.configured():
        keys.init_key()
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="msptui-export-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; work dir {workdir}")
    print(f"{'case':<8} {'timeline':>8} {'evid':>5} {'pages':>5} {'PDF KiB':>8} {'export s':>9} {'weasy s':>8} {'target s':>8} {'peak MiB':>9}")
    ok = True
    for name in ([args.only] if args.only else list(CASES)):
        r = run_case(name, CASES[name], workdir)
        # RUSAGE_CHILDREN is the max over all children so far: the large case runs last
        print(f"{r['case']:<8} {r['timeline']:>8} {r['evidence']:>5} {r['pages']:>5} {r['pdf_kib']:>8} {r['export_s']:>9.2f} "
              f"{r['weasyprint_s']:>8.2f} {r['target_s']:>8.1f} {r['peak_mib_after']:>9.0f}")
        print("         stages: " + ", ".join(f"{s} @{t:.2f}s" for s, t in r["stages"]) + f"  (setup of records {r['setup_s']:.1f} s, not timed)")
        ok &= r["export_s"] < r["target_s"] and r["peak_mib_after"] < TARGET_MIB
    print(f"peak RSS of any child (RUSAGE_CHILDREN): {_peak_children_mib():.0f} MiB (target < {TARGET_MIB})")
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
