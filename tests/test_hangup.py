"""A dropped SSH connection (SIGHUP) in the middle of a change: all of it is recorded or none of it."""

import os
import subprocess
import sys
import textwrap
import time
from datetime import date, datetime, timedelta, timezone

from msptui.demo import load_demo
from msptui.incidents import open_incident
from msptui.models import Evidence
from msptui.store import Store
from msptui.verify import verify

SCRIPT = textwrap.dedent(
    """
    import asyncio, os, signal, sys, time
    from screens.shell import MspApp
    db, incident, path = sys.argv[1], sys.argv[2], sys.argv[3]

    async def main():
        app = MspApp(db, poll=False, ask_operator=False)
        async with app.run_test(size=(80, 24)) as pilot:
            app.open_incident(incident)
            for _ in range(200):
                await pilot.pause(0.02)
                if type(app.screen).__name__ == "IncidentScreen" and getattr(app.screen, "view", None):
                    break
            app.screen.start_hash(path)
            for _ in range(500):
                await pilot.pause(0.005)
                if app.screen.query_one("#hashbar").progress > 0:
                    break
            print("HASHING", flush=True)
            os.kill(os.getpid(), signal.SIGHUP)   # the SSH session drops mid-hash
            for _ in range(400):
                await pilot.pause(0.01)
        return app.return_code

    code = asyncio.run(main())
    print("RETURN", code, flush=True)
    sys.exit(code or 0)
    """
)


def test_sighup_mid_evidence_hash_records_all_or_nothing(tmp_path):
    db = tmp_path / "hup.db"
    with Store.open(db, create=True) as store:
        load_demo(store, today=date(2026, 11, 27))
        inc, _ = open_incident(store, client_id="tallgrass-vet", discovered=datetime.now(timezone.utc) - timedelta(hours=1),
                               tz="America/Chicago", category="ransomware", summary="hup")
    image = tmp_path / "disk.img"
    with open(image, "wb") as handle:
        for _ in range(1024):
            handle.write(os.urandom(1024 * 1024))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(db), inc.id, str(image)],
                          capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert "HASHING" in proc.stdout, proc.stdout + proc.stderr[-3000:]
    assert proc.returncode == 129, proc.stdout + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    with Store.open(db) as store:
        assert verify(store).ok
        # the hangup cancels the hash in progress: nothing half-recorded, and no minutes-long lingering
        assert store.all(Evidence, incident_id=inc.id) == []
    assert elapsed < 60
