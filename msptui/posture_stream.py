"""Portfolio-scale posture: streamed in bounded memory, and badges cached per chain head.

Two entry points for the UI and the CLI (``msptui.posture`` stays the pure
rules engine):

``assess_streamed(store, now=...)``
    Every finding, like ``posture.assess(store)``, but reading the portfolio
    one chunk of clients at a time (``CHUNK`` clients and only their
    agreements, acceptances, policies and reviews, by index range), so memory
    holds one chunk of records however many clients there are. Findings come
    out MSP first, then by client id, like ``assess``.

``badges(store, now=...) -> Badges``
    The short labels per client for the home screen, without recomputing the
    portfolio when nothing changed. Contract for the TUI:

    - the result is keyed by the *chain head* (event id and hash), each
      client zone's local date (posture judges each client on its own date)
      and the posture settings; the same key returns the cached badges in a
      few milliseconds (``source == "cache"``);
    - after a few new events only the clients those events are about are
      re-assessed (``source == "incremental"``; the events' ``subject`` column
      names them; an MSP-level change such as the MSP's own policy re-runs the
      MSP findings); a new day anywhere, a settings change or a large batch
      re-runs everything (``source == "full"``);
    - the cache lives in memory for the process and on disk in
      ``$MSPTUI_CACHE_DIR`` (default: the platform cache folder,
      ``~/.cache/msptui``), one small JSON file per database, written
      atomically and owner-only, so a cold start shows badges at once; a
      missing, unreadable or foreign cache file is simply recomputed;
    - safe to call from a worker thread with that thread's own ``Store``;
      never writes to the database (works on read-only databases).

    ``Badges.by_client`` maps client id (None: the MSP) to labels, most
    severe first (``posture.badges``); clients without findings are absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from .store import Store

CHUNK = 500
#: more new events than this since the cached head: recompute everything (cheaper than many small passes)
INCREMENTAL_LIMIT = 2000
CACHE_VERSION = 1


# ---------------------------------------------------------------------------
# streamed assessment
# ---------------------------------------------------------------------------


def _client_chunks(store: Store) -> Iterator[list]:
    from .models import Client

    chunk = []
    for client in store.iter_all(Client):
        chunk.append(client)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _range(store: Store, model, lo: str, hi: str) -> list:
    rows = store.conn.execute(f"SELECT id, data FROM {model.TABLE} WHERE client_id BETWEEN ? AND ? ORDER BY client_id, id",
                              (lo, hi))
    return [store._parse(model, model.TABLE, r) for r in rows]


def assess_streamed(store: Store, *, now: datetime | None = None, clients: list[str] | None = None,
                    include_msp: bool = True) -> Iterator:
    """Findings for the portfolio (or the named ``clients``) one chunk at a time (see the module docstring)."""
    from .models import Agreement, Client, InsurancePolicy, Review, RiskAcceptance
    from .posture import assess_records, load_settings, sort_key

    now = now or datetime.now(timezone.utc)
    settings = load_settings()
    if include_msp:
        msp_pols = [p for p in _msp_policies(store)]
        yield from assess_records([], [], [], msp_pols, [], now=now, settings=settings, include_msp=True)
    if clients is not None:
        chunks: Iterator[list] = iter([[c for c in (store.get(Client, cid) for cid in sorted(set(clients))) if c is not None]])
    else:
        chunks = _client_chunks(store)
    for chunk in chunks:
        if not chunk:
            continue
        ids = [c.id for c in chunk]
        lo, hi = ids[0], ids[-1]
        if clients is not None:
            pick = set(ids)
            grab = lambda model: [r for cid in ids for r in store.all(model, client_id=cid)]  # noqa: E731
        else:
            pick = None
            grab = lambda model: _range(store, model, lo, hi)  # noqa: E731
        found = assess_records(chunk, grab(Agreement), grab(RiskAcceptance), grab(InsurancePolicy), grab(Review),
                               now=now, settings=settings, include_msp=False)
        found.sort(key=sort_key)
        for f in found:
            if pick is None or f.client_id in pick:
                yield f


def _msp_policies(store: Store) -> list:
    from .models import InsurancePolicy

    rows = store.conn.execute("SELECT id, data FROM policies WHERE client_id IS NULL ORDER BY id")
    return [store._parse(InsurancePolicy, "policies", r) for r in rows]


# ---------------------------------------------------------------------------
# badges cached per chain head
# ---------------------------------------------------------------------------


@dataclass
class Badges:
    by_client: dict[str | None, list[str]]
    #: the chain head the badges describe
    head: int
    #: "cache", "incremental" or "full"
    source: str
    key: dict = field(default_factory=dict, repr=False)


_memory: dict[str, dict] = {}
_lock = threading.Lock()


def cache_dir() -> Path:
    env = os.environ.get("MSPTUI_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("msptui", appauthor=False))


def _cache_file(store: Store) -> Path:
    ident = hashlib.sha256(str(store.path.resolve()).encode()).hexdigest()[:24]
    return cache_dir() / f"badges-{ident}.json"


def _settings_digest() -> str:
    from . import paths

    try:
        return hashlib.sha256((Path(paths.DATA_DIR) / "posture.toml").read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def _key(store: Store, now: datetime) -> dict:
    from .environment import local_zone
    from .posture import load_settings

    head_id, head_hash = store.head()
    zones = sorted({r[0] for r in store.conn.execute(
        "SELECT DISTINCT json_extract(data, '$.home_tz') FROM clients WHERE json_valid(data)") if isinstance(r[0], str)})
    settings = load_settings()
    msp_zone = settings.msp_tz or local_zone()
    dates = {}
    for zone in {*zones, msp_zone}:
        try:
            dates[zone] = now.astimezone(ZoneInfo(zone)).date().isoformat()
        except (ValueError, KeyError, OSError):
            dates[zone] = "?"
    from . import __version__

    return {"v": CACHE_VERSION, "msptui": __version__, "head": head_id, "hash": head_hash, "dates": dates,
            "settings": _settings_digest(), "db": str(store.path.resolve())}


def _load(store: Store) -> dict | None:
    path = _cache_file(store)
    with _lock:
        cached = _memory.get(str(path))
    if cached is not None:
        return cached
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key", {}).get("v") != CACHE_VERSION:
        return None
    return data


def _save(store: Store, key: dict, by_client: dict[str | None, list[str]]) -> None:
    data = {"key": key, "badges": [[cid, labels] for cid, labels in by_client.items()]}
    path = _cache_file(store)
    with _lock:
        _memory[str(path)] = data
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written is recomputed next time


def _by_client(findings) -> dict[str | None, list[str]]:
    from .posture import badges as to_badges

    return {cid: list(labels) for cid, labels in to_badges(findings).items()}


def badges(store: Store, *, now: datetime | None = None) -> Badges:
    """Badges per client, from the cache when the chain head and dates are unchanged (module docstring)."""
    now = now or datetime.now(timezone.utc)
    key = _key(store, now)
    cached = _load(store)
    if cached is not None:
        old = cached["key"]
        same_world = all(old.get(k) == key[k] for k in ("v", "msptui", "dates", "settings", "db"))
        if same_world and (old.get("head"), old.get("hash")) == (key["head"], key["hash"]):
            by_client = {cid: labels for cid, labels in cached["badges"]}
            return Badges(by_client, key["head"], "cache", key)
        if same_world and isinstance(old.get("head"), int) and 0 <= key["head"] - old["head"] <= INCREMENTAL_LIMIT:
            row = store.conn.execute("SELECT hash FROM events WHERE id = ?", (old["head"],)).fetchone()
            if row is not None and row[0] == old.get("hash"):
                subjects = {r[0] for r in store.conn.execute("SELECT DISTINCT subject FROM events WHERE id > ?", (old["head"],))}
                by_client = {cid: labels for cid, labels in cached["badges"]}
                touched = {s for s in subjects if s is not None}
                for cid in touched:
                    by_client.pop(cid, None)
                msp = None in subjects
                if msp:
                    by_client.pop(None, None)
                by_client.update(_by_client(assess_streamed(store, now=now, clients=sorted(touched), include_msp=msp)))
                _save(store, key, by_client)
                return Badges(by_client, key["head"], "incremental", key)
    by_client = _by_client(assess_streamed(store, now=now))
    _save(store, key, by_client)
    return Badges(by_client, key["head"], "full", key)
