"""The dossier: what the MSP was contracted to do, and what it did — one folder a lawyer can read and an expert can verify.

The export runs in stages, each in its own module, with a clean boundary to
the child process that renders the PDF::

    collect.py       read models -> dossier data (dossier.json) and the client's events
    skeleton.py      events.jsonl: the whole chain's skeleton, full content only for this client and the MSP
    pdf.py           data -> HTML (Jinja2, autoescaped) -> PDF (WeasyPrint, bundled assets only)
    bundle.py        files, manifest.json, SHA256SUMS, VERIFY.txt; sign (Ed25519); the ``export`` pipeline
    distribution.py  the distribution log: every export is a ``dossier.exported`` event
    files.py         file names, hashing, atomic folder writes
    runner.py        the parent side: start the child, read its progress, timeout and cancel
    child.py         ``python -m msptui.export.child``: runs one export or review-pack request
    rebuild.py       dossier.json rebuilt from the folder's events, the PDF from dossier.json
    verify.py        ``verify-dossier``: exit 0 intact and anchored, 1 a discrepancy, 3 not anchored

The folder, ``<base>/<client>/<incident>/<UTC timestamp>/``, holds
dossier.pdf, dossier.json, events.jsonl, VERIFY.txt, public_key.pem,
manifest.json, manifest.sig and SHA256SUMS: every dossier is signed, by a
key pinned in the chain (``msptui.keys``). Importing this package never
imports WeasyPrint.
"""

from __future__ import annotations

from .bundle import export
from .runner import ExportFailed, export_in_child, run_child
from .collect import collect
from .verify import DossierCheck, verify_dossier

__all__ = ["DossierCheck", "ExportFailed", "collect", "export", "export_in_child", "run_child", "verify_dossier"]
