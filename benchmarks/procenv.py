"""The environment a benchmark's child process runs in: as an installed msptui runs, with bytecode cached.

Some machines (this project's shared benchmark machine among them) export
``PYTHONDONTWRITEBYTECODE=1``. Every child then recompiles msptui's modules
from source (about 30 ms of a 240 ms ``msptui note``), while the yardstick's
packages in site-packages were compiled by pip at install time: the ratio
measured the machine's setting, not msptui. A user's install caches bytecode
(pip compiles packages; an editable checkout writes ``__pycache__`` on the
first run). Children here cache theirs under one prefix in the temp folder,
for msptui and the yardsticks alike, warmed by each benchmark's first run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PYCACHE = Path(tempfile.gettempdir()) / "msptui-bench-pycache"


def child_env(**extra: str) -> dict[str, str]:
    """``os.environ`` with bytecode caching on (under ``PYCACHE``) and ``extra`` set."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra)
    return env
