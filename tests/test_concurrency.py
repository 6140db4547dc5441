"""Several engineers on one jump box: 4 processes x 250 changes to the same incident."""

import json
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone

from msptui.demo import load_demo
from msptui.incidents import open_incident
from msptui.models import ChecklistItem, Evidence, Note
from msptui.verify import verify

# Each worker drives the real CLI entry point (click, UserError handling,
# store opening) 250 times in one process, so the test measures contention,
# not interpreter start-up.
WORKER = textwrap.dedent(
    """
    import sys, os
    from msptui.cli import main
    db, incident, who, n, steps, evfile = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5].split(","), sys.argv[6]
    failures = 0
    for i in range(n):
        if i % 25 == 7:
            args = ["evidence", "add", incident, evfile, "--name", f"{who}-{i}"]
        elif i % 5 == 3:
            step = steps[i % len(steps)]
            args = ["check", incident, step, "--note", f"{who} looked at {step} ({i})"]
        else:
            args = ["note", incident, f"{who} note {i}"]
        try:
            main(["--db", db, *args], standalone_mode=False)
        except SystemExit as exc:
            failures += exc.code != 0
        except Exception as exc:
            print(f"FAIL {who} {i}: {exc}", file=sys.stderr)
            failures += 1
    print(failures)
    """
)


def test_four_writers_lose_nothing(store, db_path, tmp_path):
    load_demo(store, today=date(2026, 11, 27))
    incident, items = open_incident(
        store, client_id="meridian-insurance", discovered=datetime.now(timezone.utc) - timedelta(hours=3),
        tz="America/New_York", category="bec", summary="CFO mailbox rule",
    )
    steps = ",".join(i.step for i in items[:6])
    evfile = tmp_path / "mail.eml"
    evfile.write_bytes(b"Received: from attacker\r\n" * 1000)
    before = store.head()[0]
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(db_path), incident.id, f"eng{k}", "250", steps, str(evfile)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0 and out.strip().splitlines()[-1] == "0", err[-2000:]
        assert "locked" not in err
    notes = store.all(Note, incident_id=incident.id)
    evidence = store.all(Evidence, incident_id=incident.id)
    checklist_notes = sum(len(i.notes) for i in store.all(ChecklistItem, incident_id=incident.id))
    # per worker: 250 = 10 evidence + 50 checks + 190 notes (i%25==7 → evidence; else i%5==3 → check)
    assert len(evidence) == 4 * 10
    assert checklist_notes == 4 * 50, "no checklist note was overwritten by a concurrent writer"
    assert len(notes) == 4 * 190
    assert len({n.id for n in notes}) == len(notes)
    assert sorted(int(n.id.rsplit("-", 1)[1]) for n in notes) == list(range(1, len(notes) + 1))
    assert store.head()[0] == before + 1000, "one event per change, none lost or duplicated"
    assert verify(store).ok
