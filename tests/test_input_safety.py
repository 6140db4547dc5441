"""Bad input is refused with one line and nothing written: every CLI option, JSON from outside, files that are not what they seem."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import threading
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from msptui.cli import main
from msptui.errors import UserError
from msptui.store import Store

from .conftest import client_rec, record_file

LONG = "A" * 100_001  # longer than any option may be (record text: 20,000)
CONTROL = "x\x1b[2Jy\x07"
#: record text may hold escape sequences (stored exactly, shown escaped): NUL is the control character it refuses
CONTROL_IN_TEXT = "x\x00y\x1b[2J"
SPOOF = "ALL STEPS DONE"


# ---------------------------------------------------------------------------
# every option and argument of every command
# ---------------------------------------------------------------------------


def _walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            yield from _walk(command.get_command(ctx, name), (*path, name))


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory):
    """A demo database with one incident, and a file to hand to commands that read one."""
    base = tmp_path_factory.mktemp("world")
    db = base / "demo.db"
    runner = CliRunner()
    assert runner.invoke(main, ["--db", str(db), "demo"]).exit_code == 0
    opened = runner.invoke(main, ["--db", str(db), "incident", "open", "--client", "lakeshore-cpa", "--discovered",
                                  "2025-06-10T09:00", "--category", "ransomware", "--summary", "test", "--json"])
    assert opened.exit_code == 0, opened.output
    (base / "file.txt").write_text("evidence")
    return {"db": db, "incident": json.loads(opened.stdout)["id"], "file": base / "file.txt", "base": base}


def _valid(world: dict, tmp: Path) -> dict[tuple[str, ...], dict[str, object]]:
    """Plausible values for every value-taking parameter of every command (a command missing here fails the test)."""
    inc, f = world["incident"], str(world["file"])
    return {
        (): {"db": str(world["db"])},
        ("backup",): {"dest": str(tmp / "backup.db")},
        ("check",): {"incident_id": inc, "item": "ins-notify", "status": "done", "note": "n", "evidence_id": "ev-1"},
        ("checklist",): {"incident_id": inc},
        ("deadline",): {"rule_id": "eu.gdpr.art33.sa", "trigger": "2025-06-10T09:00", "tz": "Europe/Berlin", "closed": ["2025-06-11"]},
        ("dump",): {"path": str(tmp / "dump.json")},
        ("evidence", "add"): {"incident_id": inc, "path": f, "name": "n", "source": "s", "method": "m"},
        ("export",): {"incident_id": inc, "out_dir": str(tmp / "out"), "generated_at": "2025-07-01T12:00:00Z", "timeout": "60",
                      "recipients": ["Jane Roe, Roe LLP"]},
        ("import",): {"paths": [f], "mappings": [f], "services": f, "engagement": "managed", "home_tz": "UTC",
                      "countries": ["US"], "encoding": "utf-8", "date_format": "%Y-%m-%d"},
        ("incident", "open"): {"client_id": "lakeshore-cpa", "discovered": "2025-06-10T09:00", "tz": "America/Chicago",
                               "category": "ransomware", "summary": "s", "reported_by": "r", "data_types": "pii",
                               "countries": "US", "states": "IL", "affected": ["US-IL=5"]},
        ("keys", "retire"): {"fingerprint": "0" * 64, "reason": "r"},
        ("note",): {"incident_id": inc, "text": "t"},
        ("obligations",): {"incident_id": inc},
        ("operator", "set"): {"who": "Dana Reyes <dana@example.net>", "role": "lead"},
        ("posture",): {"client_id": "lakeshore-cpa"},
        ("review-pack",): {"client_id": "lakeshore-cpa", "out_dir": str(tmp / "packs"), "msp_name": "MSP",
                           "generated_at": "2025-07-01T12:00:00Z", "timeout": "60"},
        ("show",): {"client_id": "lakeshore-cpa", "at_text": "2025-06-10"},
        ("verify-dossier",): {"folder": str(tmp / "none"), "key": "0" * 64, "head": "0" * 64},
    }


def _param(command: click.Command, name: str) -> click.Parameter:
    return next(p for p in command.params if p.name == name)


def _plausible(param: click.Parameter, world: dict) -> object:
    kind = param.type
    if isinstance(kind, click.Choice):
        return list(kind.choices)[0]
    if isinstance(kind, click.Path):
        return str(world["file"])
    if isinstance(kind, click.DateTime):
        return "2025-06-10"
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        return "1"
    value = "lakeshore-cpa"
    return [value] if getattr(param, "multiple", False) or param.nargs == -1 else value


def _argv(path: tuple[str, ...], command: click.Command, values: dict[str, object]) -> list[str]:
    args: list[str] = list(path)
    options: list[str] = []
    for param in command.params:
        if param.name not in values or getattr(param, "is_flag", False):
            continue
        value = values[param.name]
        items = value if isinstance(value, list) else [value]
        if isinstance(param, click.Argument):
            args += [str(v) for v in items]
        else:
            for v in items:
                options += [max(param.opts, key=len), str(v)]
    return args + options


EMPTY = ""


def _takes_empty_as_default(param: click.Parameter) -> bool:
    """A path or a zone: '' used to mean "the current folder" / "the default zone" without a word."""
    from msptui.cli.base import _is_path

    return _is_path(param) or param.metavar == "ZONE"


def _cases():
    for path, command in _walk(main):
        for param in command.params:
            if getattr(param, "is_flag", False) or param.name in ("version", "help"):
                continue
            values = [("long", LONG), ("control", CONTROL)]
            if _takes_empty_as_default(param):
                values.append(("empty", EMPTY))
            for label, value in values:
                yield pytest.param(path, param.name, value, id=f"{' '.join(path) or 'msptui'}:{param.name}:{label}")


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("path, name, bad", list(_cases()))
def test_every_option_refuses_over_long_and_control_character_values(demo_world, tmp_path, monkeypatch, path, name, bad):
    monkeypatch.setenv("MSPTUI_KEY_DIR", str(tmp_path / "keys"))
    db = tmp_path / "demo.db"
    shutil.copy(demo_world["db"], db)
    world = {**demo_world, "db": db}
    command = main
    for part in path:
        command = command.get_command(click.Context(command), part)
    table = _valid(world, tmp_path)
    values = dict(table.get(path, {}))
    for param in command.params:  # a command not in _valid(): plausible values, so only the bad one is wrong
        if param.required and param.name not in values:
            values[param.name] = _plausible(param, world)
    from msptui.cli.base import is_record_text

    if bad == CONTROL and is_record_text(_param(command, name)):
        bad = CONTROL_IN_TEXT
    values[name] = [bad] if isinstance(values.get(name), list) or getattr(_param(command, name), "multiple", False) else bad
    argv = _argv(path, command, values)
    top = ["--db", values["db"] if path == () else str(db)]
    if bad == EMPTY:  # a path or zone given as '': refused, never read as the current folder or the default zone
        monkeypatch.chdir(tmp_path)
    if path == ():
        argv = ["clients"]
    config = Path(os.environ["MSPTUI_CONFIG_DIR"])
    before = (_snapshot(tmp_path), _snapshot(config))
    result = CliRunner().invoke(main, [*top, *argv], catch_exceptions=True)
    assert result.exit_code in (1, 2), (result.exit_code, result.output[:500], result.exception)
    if bad == EMPTY:
        assert result.exit_code == 1 and "is empty" in result.stderr, result.stderr[-500:]
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[:2000]
    assert lines[0].startswith("Error: ") and len(lines[0]) <= 1100
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and "\x00" not in result.stderr
    assert (_snapshot(tmp_path), _snapshot(config)) == before, "something was written"


def test_timeout_must_be_a_finite_positive_number(cli, demo_world, tmp_path):
    for bad in ("nan", "inf", "-1", "0"):
        result = cli("--db", str(demo_world["db"]), "export", demo_world["incident"], "--out", str(tmp_path), "--timeout", bad, db=None)
        assert result.exit_code in (1, 2) and "--timeout" in result.stderr
        assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# JSON from outside: deep nesting, huge numbers
# ---------------------------------------------------------------------------

HOSTILE_JSON = {
    "deep list": '{"format": "msptui", "version": 1, "clients": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "deep object": '{"format": "msptui", "version": 1, "clients": [' + '{"a":' * 5_000 + "1" + "}" * 5_000 + "]}",
    "huge integer": '{"format": "msptui", "version": 1, "clients": [{"id": "a", "review_cadence_days": ' + "9" * 100_000 + "}]}",
    "huge float": '{"format": "msptui", "version": 1, "clients": [{"id": "a", "review_cadence_days": 1e999999}]}',
    "NaN": '{"format": "msptui", "version": 1, "clients": [{"id": "a", "review_cadence_days": NaN}]}',
    "moderately deep": '{"format": "msptui", "version": 1, "clients": [{"id": "a", "notes": ' + "[" * 80 + "]" * 80 + "}]}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_JSON))
def test_import_of_hostile_json_is_one_line_and_leaves_no_database(cli, tmp_path, db_path, name):
    path = tmp_path / "records.json"
    path.write_text(HOSTILE_JSON[name])
    result = cli("import", str(path))
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {path}: ") and "Traceback" not in result.stderr
    assert not db_path.exists() and not list(tmp_path.glob("msptui.db*"))


def test_failed_import_into_a_new_database_leaves_no_file(cli, tmp_path, db_path):
    result = cli("import", str(record_file(tmp_path, clients=[client_rec("acme", home_tz="Nowhere/Zone")])))
    assert result.exit_code == 1
    assert not list(tmp_path.glob("msptui.db*"))


def test_a_failure_while_writing_a_new_database_removes_it(cli, tmp_path, db_path, monkeypatch):
    from msptui.store import Store

    def boom(self, records):
        raise UserError("disk went away")

    monkeypatch.setattr(Store, "put_many", boom)
    result = cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    assert result.exit_code == 1 and "disk went away" in result.stderr
    assert not list(tmp_path.glob("msptui.db*"))


def test_oversized_imports_are_refused_up_front(cli, tmp_path, db_path, monkeypatch):
    from msptui import recordfile, tabular

    monkeypatch.setattr(recordfile, "MAX_FILE_BYTES", 1000)
    big = record_file(tmp_path, clients=[client_rec(f"c{i}") for i in range(20)])
    result = cli("import", str(big))
    assert result.exit_code == 1 and "split it" in result.stderr and not db_path.exists()
    monkeypatch.setattr(recordfile, "MAX_FILE_BYTES", 10**9)
    monkeypatch.setattr(recordfile, "MAX_RECORDS", 5)
    result = cli("import", str(big))
    assert result.exit_code == 1 and "20 records" in result.stderr and not db_path.exists()
    monkeypatch.setattr(tabular, "MAX_ROWS", 3)
    csv_path = tmp_path / "clients.csv"
    csv_path.write_text("id,name,engagement,home_tz\n" + "".join(f"c{i},C {i},managed,UTC\n" for i in range(5)))
    result = cli("import", str(csv_path))
    assert result.exit_code == 1 and "more than 3 rows" in result.stderr and not db_path.exists()


# ---------------------------------------------------------------------------
# the database file's permissions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix, mode, who", [("", 0o664, "its group"), ("", 0o606, "other users"),
                                               ("-wal", 0o662, "other users"), ("-shm", 0o620, "its group")])
def test_a_database_others_may_write_is_refused_with_the_chmod(cli, tmp_path, db_path, suffix, mode, who, monkeypatch):
    monkeypatch.delenv("MSPTUI_GROUP_MODE", raising=False)
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    target = db_path.with_name(db_path.name + suffix)
    target.touch()
    os.chmod(target, mode)
    before = db_path.read_bytes()
    result = cli("clients")
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert f"writable by {who}" in line and f"chmod 600 {target}" in line
    with pytest.raises(UserError, match="chmod"):
        Store.open(db_path, readonly=True)
    assert db_path.read_bytes() == before
    os.chmod(target, 0o600)
    assert cli("clients").exit_code == 0


def test_group_mode_allows_group_write_but_not_world(cli, tmp_path, db_path, monkeypatch):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    monkeypatch.setenv("MSPTUI_GROUP_MODE", "1")
    os.chmod(db_path, 0o660)
    assert cli("clients").exit_code == 0
    os.chmod(db_path, 0o662)
    result = cli("clients")
    assert result.exit_code == 1 and "chmod 660" in result.stderr


@pytest.mark.parametrize("command", [("clients",), ("verify",), ("demo",)])
def test_a_device_or_fifo_given_as_the_database_is_named_and_never_chmodded(cli, tmp_path, command):
    """'--db /dev/null' was told to 'run: chmod 600 /dev/null' (a command that breaks the machine); a FIFO read as
    'the file is empty, 0 bytes' or, for demo, 'damaged ... disk I/O error'."""
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    for target, kind in (("/dev/null", "a device"), (str(fifo), "a FIFO")):
        result = cli(*command, db=Path(target))
        assert result.exit_code == 1, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert f"{target} is not a regular file ({kind})" in line and "chmod" not in line, line
    assert fifo.is_fifo()


# ---------------------------------------------------------------------------
# evidence files
# ---------------------------------------------------------------------------


def test_evidence_symlink_is_not_followed(tmp_path):
    from msptui.evidence import hash_file

    real = tmp_path / "real.bin"
    real.write_bytes(b"data")
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    with pytest.raises(UserError, match="symbolic link"):
        hash_file(link)
    assert hash_file(real).size == 4


def test_evidence_fifo_is_refused_without_blocking(tmp_path):
    from msptui.evidence import hash_file

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list = []

    def run():
        try:
            hash_file(fifo)
        except UserError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "hashing blocked on a FIFO"
    assert outcome and "FIFO" in outcome[0]


def test_evidence_folder_and_device_are_refused(tmp_path):
    from msptui.evidence import hash_file

    with pytest.raises(UserError, match="folder"):
        hash_file(tmp_path)
    if Path("/dev/null").exists():
        with pytest.raises(UserError, match="device"):
            hash_file("/dev/null")


def test_evidence_swapped_for_a_symlink_while_hashing_is_refused(tmp_path, monkeypatch):
    from msptui import evidence

    real = tmp_path / "real.bin"
    real.write_bytes(b"a" * 10_000)
    other = tmp_path / "other.bin"
    other.write_bytes(b"b" * 10_000)

    def swap(done, total):
        if not (tmp_path / "swapped").exists():
            (tmp_path / "swapped").touch()
            real.unlink()
            real.symlink_to(other)

    with pytest.raises(UserError, match="changed while"):
        evidence.hash_file(real, progress=swap, chunk=1000)


def test_every_command_checks_its_input():
    """A command added with a plain @click.command (not through main) would skip check_params."""
    from msptui.cli.base import CheckedCommand, CheckedGroup

    unchecked = [" ".join(path) for path, command in _walk(main) if not isinstance(command, (CheckedCommand, CheckedGroup))]
    assert unchecked == []


def test_record_text_options_keep_hostile_text_exactly_and_refuse_nul(demo_world, tmp_path):
    """A ransom note or phishing subject is data: stored exactly (escape sequences and bidi overrides included) and
    shown escaped; an id, zone or path with one is refused."""
    from msptui.models import Note

    db = tmp_path / "demo.db"
    shutil.copy(demo_world["db"], db)
    hostile = "YOUR FILES ARE ENCRYPTED \x1b[2J\u202etxt.exe\r\nALL STEPS DONE"
    added = CliRunner().invoke(main, ["--db", str(db), "note", demo_world["incident"], hostile])
    assert added.exit_code == 0, added.output
    with Store.open(db) as store:
        assert [n.text for n in store.all(Note)] == [hostile]
    refused = CliRunner().invoke(main, ["--db", str(db), "note", demo_world["incident"], "a\x00b"])
    assert refused.exit_code == 1 and "NUL" in refused.stderr
    refused = CliRunner().invoke(main, ["--db", str(db), "note", f"{demo_world['incident']}\x1b[2J", "text"])
    assert refused.exit_code == 1 and "INCIDENT: contains a control character" in refused.stderr
