"""Backups while others write, and restoring one."""

import shutil
import subprocess
import sys
import textwrap

from msptui.store import Store
from msptui.verify import verify

from .conftest import client_rec, record_file

WRITER = textwrap.dedent(
    """
    import sys
    from msptui.models import Client
    from msptui.store import Store
    with Store.open(sys.argv[1]) as store:
        for i in range(400):
            store.put(Client(id=f"live-{i}", name="Live", engagement="managed", home_tz="UTC"))
    """
)


def test_backup_during_writes_verifies_and_restores(cli, tmp_path, db_path):
    assert cli("demo").exit_code == 0
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path)])
    dest = tmp_path / "backups" / "monday.db"
    result = cli("backup", str(dest))
    writer.wait(timeout=120)
    assert result.exit_code == 0, result.stderr
    assert "chain verified" in result.stdout
    assert dest.stat().st_mode & 0o077 == 0, "backups are owner-only like the DB"
    assert not list(dest.parent.glob(".*partial*")), "no temporary file left behind"
    # restore: copy the backup over a DB path and open it
    restored = tmp_path / "restored.db"
    shutil.copy2(dest, restored)
    with Store.open(restored) as store:
        assert verify(store).ok
        assert store.count("clients") >= 14
    assert cli("verify", db=restored).exit_code == 0


def test_backup_into_a_folder_and_not_over_itself(cli, tmp_path, db_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    folder = tmp_path / "bk"
    folder.mkdir()
    assert cli("backup", str(folder)).exit_code == 0
    assert cli("backup", str(folder)).exit_code == 0  # the second keeps the first: named for its instant
    kept = sorted(folder.glob("msptui-backup-*Z.db"))
    assert len(kept) == 2 and all(cli("verify", db=path).exit_code == 0 for path in kept)
    same = cli("backup", str(db_path))
    assert same.exit_code == 1 and "is the database itself" in same.stderr
