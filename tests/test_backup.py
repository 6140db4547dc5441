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


def _events(db_path) -> int:
    with Store.open(db_path) as store:
        return store.head()[0]


def test_backup_replaces_only_an_older_backup_of_the_same_database(cli, tmp_path, db_path):
    """The copy is renamed over DEST: a FIFO, a document or another msptui database named by mistake was lost."""
    import os

    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    dest = tmp_path / "nightly.db"
    assert cli("backup", str(dest)).exit_code == 0
    assert cli("backup", str(dest)).exit_code == 0, "the next night's backup replaces the last one"
    other = tmp_path / "other.db"
    cli("import", str(record_file(tmp_path, "other.json", clients=[client_rec("zeta")])), db=other)
    document = tmp_path / "contract.pdf"
    document.write_bytes(b"%PDF-1.7 signed contract")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link.db"
    link.symlink_to(document)
    for target, message in ((other, "holds a different database"), (document, "is not a database"),
                            (fifo, "is not a regular file"), (link, "is not a regular file"),
                            (tmp_path / "msptui.db-wal", "is the database itself")):
        before = (_events(other), document.read_bytes())
        result = cli("backup", str(target))
        assert result.exit_code == 1 and message in result.stderr, (target, result.stderr)
        assert len([line for line in result.stderr.splitlines() if line.startswith("Error:")]) == 1
        assert (_events(other), document.read_bytes()) == before
    assert fifo.is_fifo() and link.is_symlink()
    assert not list(tmp_path.glob(".*partial*"))


def test_dump_never_overwrites_the_database_or_anything_but_a_record_file(cli, tmp_path, db_path):
    """'msptui dump msptui.db' replaced the database, its whole history, with JSON."""
    import os

    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    head = _events(db_path)
    result = cli("dump", str(db_path))
    assert result.exit_code == 1 and "is the database itself" in result.stderr, result.stderr
    assert _events(db_path) == head and cli("verify").exit_code == 0
    document = tmp_path / "notes.txt"
    document.write_text("keep me")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target, message in ((document, "is not an msptui record file"), (fifo, "is not a regular file")):
        result = cli("dump", str(target))
        assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert document.read_text() == "keep me" and fifo.is_fifo()
    dump = tmp_path / "records.json"
    assert cli("dump", str(dump)).exit_code == 0
    assert cli("dump", str(dump)).exit_code == 0, "an earlier dump is replaced"
