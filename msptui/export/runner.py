"""The parent side of the export child process: start it, read its progress, kill it on timeout or cancel.

WeasyPrint needs seconds and hundreds of MiB for a long dossier and holds the
GIL while it lays out pages: it runs in ``python -m msptui.export.child``, so
the TUI never waits on it and a crash or a kill takes nothing else down. The
protocol is one JSON request on stdin (``kind`` "dossier" or "review_pack")
and JSON lines on stdout: ``{"stage": ...}`` as each stage starts,
``{"tmp": ...}`` for each temporary path it creates, ``{"notice": ...}`` for
something the user should know (a signing key was created), then ``{"path": ...}`` or
``{"error": ..., "user": bool}``. The parent (``run_child``) kills the child
on timeout or cancellation and removes every temporary path it announced.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from .. import leftovers, paths
from ..errors import UserError
from .files import utc_text

Progress = Callable[[str], None]


class ExportFailed(UserError):
    """The child process failed, timed out or was cancelled; nothing was written."""


def export_in_child(
    db_path: Path | str,
    incident_id: str,
    out_dir: Path | str | None = None,
    privileged: bool = False,
    progress: Progress | None = None,
    timeout: float = 300,
    *,
    generated_at: datetime | None = None,
    cancelled: Callable[[], bool] | None = None,
    recipients: list[dict] | None = None,
    notice: Callable[[str], None] | None = None,
) -> Path:
    """Run ``export`` in ``python -m msptui.export.child`` and return the folder.

    ``progress`` receives stage names ("collect", "render", "write", "sign",
    "done") as the child reaches them. On timeout or cancellation the child is
    killed and its temporary folder removed; the target never appears.
    """
    request = {
        "db": str(Path(db_path).resolve()),
        "incident_id": incident_id,
        # absolute, not resolved: a symbolic link in it must reach the check in export() (refused there)
        "out_dir": os.path.abspath(out_dir) if out_dir is not None else None,
        "privileged": privileged,
        "generated_at": utc_text(generated_at) if generated_at else None,
        "recipients": list(recipients or []),
    }
    result = run_child(request, progress=progress, timeout=timeout, cancelled=cancelled, notice=notice)
    return Path(result["path"])


def _remove_tmp(tmp: str) -> None:
    """Remove a temporary folder or file the child announced."""
    path = Path(tmp)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except OSError:
            pass


def run_child(
    request: dict,
    *,
    progress: Progress | None = None,
    timeout: float = 300,
    cancelled: Callable[[], bool] | None = None,
    notice: Callable[[str], None] | None = None,
) -> dict:
    """Send ``request`` to ``python -m msptui.export.child`` and return its final ``{"path": ...}`` message.

    Stage names go to ``progress``; on timeout, cancellation or failure the
    child is killed and every temporary folder or file it announced removed.
    """
    import selectors

    env = leftovers.child_env()
    env["PYTHONPATH"] = os.pathsep.join([str(paths.ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    env.setdefault("PYTHONUNBUFFERED", "1")
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(
            [sys.executable, "-m", "msptui.export.child"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errfile, env=env, cwd=str(paths.ROOT),
        )
        assert proc.stdin and proc.stdout
        proc.stdin.write(json.dumps(request).encode("utf-8"))
        proc.stdin.close()
        deadline = time.monotonic() + timeout
        tmp_dirs: list[str] = []
        result: dict | None = None
        buffer = b""
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        failure: str | None = None
        try:
            eof = False
            while not eof:
                if cancelled is not None and cancelled():
                    failure = "export cancelled; nothing was written"
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    failure = f"export timed out after {timeout:g} s; nothing was written"
                    break
                if not sel.select(timeout=min(remaining, 0.1)):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    eof = True
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    try:
                        message = json.loads(line)
                    except ValueError:
                        continue
                    if "stage" in message and progress:
                        progress(message["stage"])
                    if "notice" in message and notice:
                        notice(str(message["notice"]))
                    if "tmp" in message:
                        tmp_dirs.append(message["tmp"])
                    if "path" in message or "error" in message:
                        result = message
        finally:
            sel.close()
            if failure is not None:
                proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            if failure is not None or result is None or "error" in result:
                for tmp in tmp_dirs:
                    _remove_tmp(tmp)
        if failure is not None:
            raise ExportFailed(failure)
        if result is None:
            errfile.seek(0)
            tail = errfile.read().decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise ExportFailed(f"the export process ended with status {proc.returncode}: {tail[0]}")
        if "error" in result:
            raise ExportFailed(result["error"]) if result.get("user") else RuntimeError(result["error"])
        return result
