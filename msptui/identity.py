"""Who is acting: the named operator, beside the OS login.

A claim adjuster asks *who* called the hotline; "root" is not an answer. Each
person sets their identity once (``msptui operator set "Dana Reyes
<dana@example.net>"``); it is kept in their own config folder
(``$MSPTUI_CONFIG_DIR``, else the platform config dir), or given for one
session with ``$MSPTUI_OPERATOR``. Every event records it beside the OS login
(``environment.actor()``), and records name the person (``person()``).

When no identity is set, events carry ``operator: null`` and records name the
OS login; the CLI reminds the user once per command and the TUI asks on first
start.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from dataclasses import asdict, dataclass

from . import environment
from .errors import UserError

CONFIG_NAME = "operator.json"
_NAME_EMAIL = re.compile(r"^\s*(?P<name>[^<>]+?)\s*(?:<(?P<email>[^<>\s]+@[^<>\s]+)>)?\s*$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
#: field -> longest accepted length
_LIMITS = {"name": 120, "email": 200, "role": 80}
#: a right-to-left override or a line separator in the name every event and record carries would make them
#: read otherwise than they are (joiners, which some scripts need in names, stay allowed)
_BIDI_OR_BREAK = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u2028\u2029")


def _problem(field: str, value: object) -> str | None:
    """Why a value is not acceptable for ``field`` (None: it is)."""
    if value is None:
        return "is required" if field == "name" else None
    if not isinstance(value, str):
        return "must be text"
    if field == "name" and not value:
        return "is empty"
    if len(value) > _LIMITS[field]:
        return f"is longer than {_LIMITS[field]} characters"
    if field == "email":
        return None if _EMAIL.match(value) else f"{value!r} is not an email address"
    if any(ord(ch) < 32 or ord(ch) == 127 or 0x80 <= ord(ch) < 0xA0 for ch in value):
        return "contains control characters"
    if any(ch in _BIDI_OR_BREAK or 0xD800 <= ord(ch) < 0xE000 for ch in value):
        return "contains a bidi or line-separator character"
    if value != value.strip():
        return "has leading or trailing spaces"
    return None


@dataclass(frozen=True)
class Operator:
    """A named person (name required; email and role optional).

    A plain dataclass, not a pydantic model: the TUI names the operator
    before its first paint, and importing pydantic there cost ~0.14 s of
    cold start.
    """

    name: str
    email: str | None = None
    role: str | None = None

    def __post_init__(self) -> None:
        for field in _LIMITS:
            why = _problem(field, getattr(self, field))
            if why:
                raise UserError(f"operator {field}: {why}")

    @classmethod
    def from_dict(cls, data: object) -> "Operator":
        if not isinstance(data, dict) or set(data) - set(_LIMITS):
            raise UserError("operator: expected an object with name and optional email and role")
        return cls(**data)

    def as_dict(self) -> dict:
        """What an event and the config file record (unset fields left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def text(self) -> str:
        """'Dana Reyes <dana@example.net> (incident lead)'."""
        out = self.name + (f" <{self.email}>" if self.email else "")
        return out + (f" ({self.role})" if self.role else "")


def parse(text: str, role: str | None = None) -> Operator:
    """'Dana Reyes <dana@example.net>' (or just a name) -> Operator; UserError naming the problem."""
    match = _NAME_EMAIL.match(text or "")
    if not match:
        raise UserError(f"operator {text[:80]!r}: expected \"NAME\" or \"NAME <EMAIL>\"")
    return Operator(name=match.group("name").strip(), email=match.group("email"), role=role or None)


def config_dir() -> Path:
    override = os.environ.get("MSPTUI_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("msptui", appauthor=False))


def config_path() -> Path:
    return config_dir() / CONFIG_NAME


def save(op: Operator) -> Path:
    """Write the identity owner-only (atomically: a crash leaves the old one)."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = config_path()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(op.as_dict(), ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def current() -> Operator | None:
    """$MSPTUI_OPERATOR, else the saved identity, else None. A damaged config is an error, not silence."""
    env = os.environ.get("MSPTUI_OPERATOR")
    if env and env.strip():
        try:
            return parse(env)
        except UserError as exc:
            raise UserError(f"$MSPTUI_OPERATOR: {exc}") from None
    path = config_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the operator identity ({exc.strerror}); run 'msptui operator set'") from None
    try:
        return Operator.from_dict(json.loads(raw))
    except (ValueError, UserError):
        raise UserError(f"{path}: the operator identity is damaged; run 'msptui operator set \"NAME <EMAIL>\"'") from None


def event_operator() -> dict | None:
    """What an event records as its operator."""
    op = current()
    return op.as_dict() if op else None


def person() -> str:
    """The name records carry for "who": the operator's name, else the OS login."""
    op = current()
    return op.name if op else environment.actor()
