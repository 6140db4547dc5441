"""What a kill -9 leaves behind, and how the next run clears it.

Two problems, two helpers:

**Hidden temporary files and folders.** Exports, review packs and backups
are written under a hidden temporary name beside their target and renamed
into place, so a crash never leaves a half-written one visible. A killed
process still leaves the hidden one (25 killed backups left 1.7 GiB). So:

- ``claim(path)`` — the creator calls it right after creating its temporary
  file or folder: it takes an exclusive ``flock`` on it, held until the
  process exits (the kernel drops it on any death, kill -9 included).
- ``sweep(folder)`` — called before writing into ``folder``: removes every
  ``.*.tmp-*`` and ``.*.partial`` entry (and their -wal/-shm) that no live
  process holds and that is older than ``GRACE_S`` (so one created a moment
  ago, not yet claimed, is left alone). Best effort: an entry it cannot
  remove is skipped silently; it never touches anything else.

**Child processes outliving their parent.** ``die_with_parent()`` — called
first thing in a child (the PDF renderer): on Linux the kernel sends it
SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)`` through ctypes);
elsewhere a daemon thread polls the parent pid once a second. Either way a
parent that is already gone (the race before the call) ends the child at
once. ``MSPTUI_PARENT_PID`` (set by the parent) names the expected parent.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import sys
import threading
import time
from pathlib import Path

#: hidden temporary names msptui writes beside a target (dossier folders, review packs, backups)
PATTERNS = (".*.tmp-*", ".*.partial")
#: an unclaimed temporary entry younger than this may be one being created right now
GRACE_S = 30.0
PARENT_ENV = "MSPTUI_PARENT_PID"

_held: dict[str, int] = {}


def claim(path: Path | str) -> None:
    """Hold an exclusive lock on a temporary file or folder until this process exits."""
    import fcntl

    path = str(path)
    try:
        fd = os.open(path, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return
    _held[path] = fd


def release(path: Path | str) -> None:
    fd = _held.pop(str(path), None)
    if fd is not None:
        os.close(fd)


def _in_use(path: Path) -> bool:
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True  # cannot tell: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def stale(folder: Path | str, *, grace_s: float = GRACE_S) -> list[Path]:
    """The leftover temporary entries in ``folder`` no live process holds."""
    folder = Path(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    now = time.time()
    out = []
    for name in names:
        if not any(fnmatch.fnmatchcase(name, p) for p in PATTERNS) or name.endswith(("-wal", "-shm")):
            continue
        path = folder / name
        try:
            st = path.lstat()
        except OSError:
            continue
        if now - st.st_mtime < grace_s or str(path) in _held or _in_use(path):
            continue
        out.append(path)
    return out


def sweep(folder: Path | str, *, grace_s: float = GRACE_S) -> list[Path]:
    """Remove the leftovers ``stale`` finds (and their -wal/-shm); returns what was removed."""
    removed = []
    for path in stale(folder, grace_s=grace_s):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            for side in ("-wal", "-shm", "-journal"):
                Path(f"{path}{side}").unlink(missing_ok=True)
            removed.append(path)
        except OSError:
            continue
    return removed


# ---------------------------------------------------------------------------
# child processes
# ---------------------------------------------------------------------------


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child that should call ``die_with_parent`` (names this process as its parent)."""
    env = dict(os.environ if env is None else env)
    env[PARENT_ENV] = str(os.getpid())
    return env


def _pdeathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(poll_s: float = 1.0) -> None:
    """End this process when its parent dies (see the module docstring)."""
    expected = os.environ.get(PARENT_ENV)
    parent = int(expected) if expected and expected.isdigit() else os.getppid()
    armed = _pdeathsig()
    if os.getppid() != parent:  # the parent died before we could ask to be told
        os._exit(1)
    if armed:
        return

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="msptui-parent-watch", daemon=True).start()
