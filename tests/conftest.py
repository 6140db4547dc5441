"""Shared fixtures: a fresh DB per test and a CLI runner that returns exit code, stdout and stderr."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from msptui.cli import main
from msptui.store import Store


# Before any fixture (session-scoped ones such as the TUI's demo database run before the autouse
# fixture below): no test may read or write the developer's own operator identity, keys or cache,
# e.g. the operator 'make run' asked for would otherwise appear in the TUI snapshots.
_SESSION_HOME = tempfile.mkdtemp(prefix="msptui-tests-")
os.environ["MSPTUI_CONFIG_DIR"] = os.path.join(_SESSION_HOME, "config")
os.environ["MSPTUI_CACHE_DIR"] = os.path.join(_SESSION_HOME, "cache")
for _name in ("MSPTUI_OPERATOR", "MSPTUI_DB", "MSPTUI_TZ", "MSPTUI_KEY_DIR", "MSPTUI_EXPORT_DIR", "MSPTUI_MSP_NAME",
              "MSPTUI_GROUP_MODE"):
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def _private_config(tmp_path_factory, monkeypatch):
    """Every test gets its own empty config and cache folders: no developer's operator identity, signing key or cached badges leak in."""
    monkeypatch.setenv("MSPTUI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("MSPTUI_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("MSPTUI_OPERATOR", raising=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "msptui.db"


@pytest.fixture
def cli(db_path: Path, monkeypatch):
    """Run ``msptui --db DB ARGS``; returns the click Result (exit_code, stdout, stderr)."""
    monkeypatch.delenv("MSPTUI_DB", raising=False)

    def run(*args: str, db: Path | None = db_path):
        prefix = ["--db", str(db)] if db is not None else []
        return CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)

    return run


@pytest.fixture
def store(db_path: Path):
    s = Store.open(db_path, create=True)
    yield s
    s.close()


SIGNED = {
    "status": "signed",
    "signed_at": "2025-01-02T15:00:00Z",
    "method": "e_signature",
    "signatories": [{"name": "Pat MSP", "side": "msp"}, {"name": "Chris Client", "side": "client"}],
}


def client_rec(cid: str = "acme", **extra) -> dict:
    return {"id": cid, "name": f"{cid.title()} Ltd", "engagement": "managed", "home_tz": "America/New_York", **extra}


def record_file(tmp_path: Path, name: str = "records.json", **lists) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"format": "msptui", "version": 1, **lists}), encoding="utf-8")
    return path
