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


def _import_graph() -> dict[str, set[str]]:
    """Project module -> project modules it imports (module-level and inside functions; not TYPE_CHECKING blocks)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    modules: dict[str, Path] = {}
    for package in ("msptui", "screens"):
        for path in (root / package).rglob("*.py"):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}

    def skip_type_checking(tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
                node.body = []

    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip_type_checking(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join([*base, *([node.module] if node.module else [])])
                candidates = [target, *(f"{target}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(c for c in candidates if c in modules and c != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_among_project_modules():
    """Every import counts, also one inside a function: a deferred import hides a cycle, it does not remove it."""
    graph = _import_graph()
    assert len(graph) > 40, "the scan found too few modules"
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_screen_imports_another_screen():
    """Screens navigate through the app (screens/shell.py) and typed messages, never by importing each other."""
    shared = {"screens", "screens.widgets", "screens.formkit", "screens.messages", "screens.testing", "screens.app", "screens.shell"}
    graph = _import_graph()
    for name, targets in graph.items():
        if name.startswith("screens.") and name not in shared:
            assert not {t for t in targets if t.startswith("screens.") and t not in shared}, name


def test_screens_run_no_sql_and_call_no_rule_engine():
    """Screens show core data and call core functions: SQL and the rule engines stay in msptui/."""
    from pathlib import Path

    for path in (Path(__file__).resolve().parent.parent / "screens").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for forbidden in (".execute(", "sqlite3", "msptui.applicability", "msptui.deadlines", "msptui.plan import plan",
                          "msptui.checklist", "msptui.obligations import load_rules"):
            assert forbidden not in text, f"{path.name} uses {forbidden}"


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
