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


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(','.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.strip().splitlines()[-1].split(","))


HEAVY = ("pydantic", "sqlite_utils", "weasyprint", "textual", "holidays", "jinja2", "msptui.models", "msptui.posture",
         "msptui.deadlines", "msptui.obligations", "screens")


def test_importing_the_cli_loads_no_models_or_heavy_libraries():
    """Start-up cost: a command pays only for what it uses (measured with python -X importtime)."""
    loaded = _modules_after("import msptui.cli")
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY]


def test_clients_json_and_note_load_only_what_they_need(tmp_path):
    db = tmp_path / "m.db"
    setup = (f"from msptui.cli import main\n"
             f"main(['--db', {str(db)!r}, 'demo'], standalone_mode=False)\n")
    subprocess.run([sys.executable, "-c", setup], check=True, capture_output=True)
    loaded = _modules_after(f"from msptui.cli import main\nmain(['--db', {str(db)!r}, 'clients', '--json'], standalone_mode=False)")
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY]
    note = _modules_after(
        "from datetime import datetime, timezone, timedelta\n"
        "from msptui.store import Store\nfrom msptui.incidents import open_incident\n"
        f"s = Store.open({str(db)!r})\n"
        "inc, _ = open_incident(s, client_id='tallgrass-vet', discovered=datetime.now(timezone.utc) - timedelta(hours=1), "
        "tz='UTC', category='bec', summary='x', plan=lambda st, c, i: (i, []))\ns.close()\n"
        "import sys\nfor m in [m for m in sys.modules if m.startswith(('msptui', 'pydantic', 'holidays'))]: del sys.modules[m]\n"
        "from msptui.cli import main\n"
        f"main(['--db', {str(db)!r}, 'note', inc.id, 'hello'], standalone_mode=False)")
    assert "msptui.models" in note, "a note is validated by its model"
    assert not [m for m in note if m.split(".")[0] in ("weasyprint", "textual", "holidays", "jinja2", "sqlite_utils", "screens")
                or m in ("msptui.posture", "msptui.deadlines", "msptui.obligations")]
