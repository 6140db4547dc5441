"""``python -m msptui.export.child``: the child process that renders a dossier or a review pack.

It reads one JSON request on stdin (``kind`` "dossier" or "review_pack") and
writes JSON lines on stdout (the protocol is described in ``runner.py``, the
parent side). Only this process imports WeasyPrint.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from ..errors import UserError


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def child_main() -> int:
    """Run one request: ``kind`` "dossier" (the default) or "review_pack"."""
    import sqlite3

    from ..errors import describe_os_error, describe_sqlite_error
    from ..leftovers import die_with_parent
    from ..store import Store

    die_with_parent()  # a renderer never outlives the msptui that started it (kill -9 included)
    extra: dict = {}
    request: dict = {}
    try:
        request = json.loads(sys.stdin.read())
        generated_at = datetime.fromisoformat(request["generated_at"].replace("Z", "+00:00")) if request.get("generated_at") else None
        kind = request.get("kind", "dossier")
        with Store.open(request["db"]) as store:
            if kind == "dossier":
                from .bundle import export

                path = export(
                    store,
                    request["incident_id"],
                    out_dir=request.get("out_dir"),
                    generated_at=generated_at,
                    privileged=bool(request.get("privileged")),
                    progress=lambda stage: _say({"stage": stage}),
                    on_tmp=lambda tmp: _say({"tmp": str(tmp)}),
                    recipients=request.get("recipients") or [],
                    notice=lambda text: _say({"notice": text}),
                )
            elif kind == "review_pack":
                from ..review_pack import write

                printed = write(
                    store,
                    request["client_id"],
                    out_dir=request.get("out_dir"),
                    generated_at=generated_at,
                    msp_name=request.get("msp_name"),
                    progress=lambda stage: _say({"stage": stage}),
                    on_tmp=lambda tmp: _say({"tmp": str(tmp)}),
                )
                path, extra = printed.path, {"sha256": printed.sha256}
            else:
                raise ValueError(f"unknown request kind {kind!r}")
    except UserError as exc:
        _say({"error": str(exc), "user": True})
        return 1
    except OSError as exc:  # a full disk, a read-only folder: one line, not a traceback
        _say({"error": describe_os_error(exc), "user": True})
        return 1
    except sqlite3.Error as exc:
        _say({"error": describe_sqlite_error(request.get("db", "the database"), exc), "user": True})
        return 1
    except Exception as exc:  # a bug: keep the traceback on stderr, one line to the parent
        import traceback

        traceback.print_exc()
        _say({"error": f"{type(exc).__name__}: {exc}", "user": False})
        return 2
    _say({"path": str(path), **extra})
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
