"""The CLI contract: commands, JSON shapes and exit codes."""

import json

from .conftest import client_rec, record_file


def test_missing_db_exits_1_and_says_where(cli, db_path):
    result = cli("clients")
    assert result.exit_code == 1
    assert f"no database at {db_path}" in result.stderr
    assert not db_path.exists()


def test_usage_error_exits_2(cli):
    assert cli("clients", "--bogus").exit_code == 2
    assert cli("no-such-command").exit_code == 2


def test_import_clients_show_verify(cli, tmp_path, db_path):
    path = record_file(tmp_path, clients=[client_rec("acme", name="Acme [/prod] \x1b[31mred")])
    result = cli("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"database {db_path}" in result.stderr
    rows = json.loads(cli("clients", "--json").stdout)
    assert rows == [{"id": "acme", "name": "Acme [/prod] \x1b[31mred", "engagement": "managed", "home_tz": "America/New_York"}]
    shown = cli("show", "acme").stdout
    assert "Acme [/prod] \\x1b[31mred" in shown and "\x1b" not in shown, "escapes are shown, not obeyed"
    assert json.loads(cli("show", "acme", "--json").stdout)["client"]["id"] == "acme"
    assert cli("verify").exit_code == 0


def test_bad_import_is_one_line_exit_1(cli, tmp_path):
    path = record_file(tmp_path, clients=[client_rec("acme", home_tz="Nowhere/Zone")])
    result = cli("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert "Traceback" not in result.stderr and "field 'home_tz'" in result.stderr


def test_show_unknown_client(cli, tmp_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    result = cli("show", "nobody")
    assert result.exit_code == 1 and "no client with id 'nobody'" in result.stderr


def test_verify_exit_1_on_tamper(cli, tmp_path, db_path):
    import sqlite3

    cli("import", str(record_file(tmp_path, clients=[client_rec("acme"), client_rec("beta")])))
    sqlite3.connect(db_path, isolation_level=None).execute("UPDATE clients SET data = '{}' WHERE id = 'beta'")
    result = cli("verify")
    assert result.exit_code == 1 and "clients/beta" in result.stderr


def test_db_from_environment(cli, tmp_path, monkeypatch, db_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    monkeypatch.setenv("MSPTUI_DB", str(db_path))
    result = cli("clients", "--json", db=None)
    assert result.exit_code == 0 and "(from MSPTUI_DB)" in result.stderr


def test_dump_writes_import_format(cli, tmp_path):
    cli("import", str(record_file(tmp_path, clients=[client_rec("acme")])))
    out = tmp_path / "out.json"
    assert cli("dump", str(out)).exit_code == 0
    data = json.loads(out.read_text())
    assert data["format"] == "msptui" and data["clients"][0]["id"] == "acme"


def test_show_names_each_declined_recommendation_so_its_signature_can_be_recorded(cli, tmp_path, monkeypatch):
    """The error of 'acknowledge' sends people to 'show CLIENT': the id they need is there."""
    monkeypatch.setenv("MSPTUI_OPERATOR", "Dana Reyes")
    assert cli("demo").exit_code == 0
    shown = cli("show", "bayview-logistics").stdout.splitlines()
    at = next(i for i, line in enumerate(shown) if line.strip().startswith("mdr_soc") and "NOT SIGNED" in line)
    risk_id = shown[at + 1].split()[1]
    wrong = cli("acknowledge", "no-such-ra", "--signed-by", "X", "--signed-at", "2026-07-01T10:00")
    assert wrong.exit_code == 1 and "DECLINED RECOMMENDATIONS" in wrong.stderr
    signed = cli("acknowledge", risk_id, "--signed-by", "Ops Director", "--signed-at", "2026-07-01T10:00")
    assert signed.exit_code == 0, signed.stderr
    assert "NOT SIGNED" not in "\n".join(line for line in cli("show", "bayview-logistics").stdout.splitlines() if "mdr_soc" in line)


def test_python_dash_m_msptui_cli_runs_the_command_line(tmp_path):
    """'python -m msptui.cli ...' failed ('msptui.cli is a package and cannot be directly executed'); importing
    the module must not start anything."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "MSPTUI_CONFIG_DIR": str(tmp_path / "config")}
    missing = subprocess.run([sys.executable, "-m", "msptui.cli", "--db", str(tmp_path / "none.db"), "clients"],
                             capture_output=True, text=True, timeout=60, env=env)
    assert missing.returncode == 1 and "no database at" in missing.stderr, missing.stderr
    usage = subprocess.run([sys.executable, "-m", "msptui.cli", "no-such-command"], capture_output=True, text=True,
                           timeout=60, env=env)
    assert usage.returncode == 2 and "msptui" in usage.stderr
    imported = subprocess.run([sys.executable, "-c", "import msptui.cli.__main__; print('imported')"],
                              capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert imported.returncode == 0 and imported.stdout.strip() == "imported"


def test_a_reader_that_goes_away_is_not_an_error(tmp_path):
    """'msptui rules | head -1' printed 'Error: (unknown path): Broken pipe; nothing was written' and exited 1."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "MSPTUI_CONFIG_DIR": str(tmp_path / "config")}
    for args in (["rules"], ["rules", "--json"]):
        read, write = os.pipe()
        os.close(read)  # the reader has gone before the first line is written
        try:
            proc = subprocess.run([sys.executable, "-m", "msptui.cli", *args], stdout=write, stderr=subprocess.PIPE,
                                  env=env, timeout=60)
        finally:
            os.close(write)
        assert proc.returncode == 141 and proc.stderr.decode() == "", (args, proc.returncode, proc.stderr)
