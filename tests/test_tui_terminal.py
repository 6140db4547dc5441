"""The real entry point on a pseudo-terminal: 16 colours and NO_COLOR stay legible, and ctrl+q exits 0."""

import os
import pty
import re
import select
import sys
import time

import pytest

from msptui.demo import load_demo
from msptui.store import Store

SGR = re.compile(rb"\x1b\[([0-9;]*)m")


def _run_tui(db, env_extra: dict) -> tuple[bytes, int]:
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.pop("COLORTERM", None)
        os.environ.setdefault("MSPTUI_OPERATOR", "Pat Engineer")
        os.environ.update(env_extra)
        os.execv(sys.executable, [sys.executable, "-c", f"import sys; from screens.app import run; sys.exit(run({str(db)!r}))"])
    seen = b""
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and b"REVIEW-OVERDUE" not in seen:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
        os.write(fd, b"\x11")  # ctrl+q
        end = time.monotonic() + 10
        while time.monotonic() < end:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return seen, os.WEXITSTATUS(status)
            try:
                if select.select([fd], [], [], 0.05)[0]:
                    seen += os.read(fd, 65536)
            except OSError:
                pass
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the TUI did not exit on ctrl+q")
    finally:
        os.close(fd)


@pytest.fixture
def demo_db(tmp_path):
    db = tmp_path / "term.db"
    with Store.open(db, create=True) as store:
        load_demo(store)
    return db


@pytest.mark.parametrize("env", [{"TERM": "xterm"}, {"TERM": "screen", "NO_COLOR": "1"}], ids=["16-colours", "no-color"])
def test_home_uses_only_basic_colours_and_words(demo_db, env):
    out, code = _run_tui(demo_db, env)
    assert code == 0
    assert b"REVIEW-OVERDUE" in out and b"NO-MSA" in out, "severity badges are words"
    params = [p for m in SGR.finditer(out) for p in m.group(1).split(b";") if p]
    extended = [i for i, p in enumerate(params) if p in (b"38", b"48") and i + 1 < len(params) and params[i + 1] in (b"2", b"5")]
    assert not extended, "only the 16 basic colours are used on a 16-colour terminal"
