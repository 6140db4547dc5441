"""The headless core never pulls in the UI or the PDF engine at import time."""

import subprocess
import sys

CORE_MODULES = [
    "msptui", "msptui.cli", "msptui.models", "msptui.store", "msptui.chain", "msptui.verify",
    "msptui.scope", "msptui.recordfile", "msptui.picture", "msptui.demo", "msptui.migrations",
]


def test_core_imports_neither_textual_nor_weasyprint():
    code = (
        "import sys, importlib\n"
        f"for m in {CORE_MODULES!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'weasyprint', 'screens'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"


def test_every_core_module_is_headless():
    """Any module added to msptui/ later is covered too."""
    code = (
        "import sys, pkgutil, importlib, msptui\n"
        "for m in pkgutil.walk_packages(msptui.__path__, 'msptui.'): importlib.import_module(m.name)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'weasyprint'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
