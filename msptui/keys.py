"""The dossier signing key: one Ed25519 key pair per MSP installation, pinned in the chain.

``msptui keys init`` (or the first ``export``, when there is none) creates it in the platform config directory
(``$MSPTUI_KEY_DIR``, else ``$MSPTUI_CONFIG_DIR``, else
``platformdirs.user_config_dir("msptui")``): the
folder owner-only (0700), the private key owner-only (0600). A key with looser
permissions is refused, as ssh does: a signing key others can read proves
nothing.

The private key is only ever read here to sign bytes; it is never written
anywhere else (not into a dossier, not into a log, not into an error message).
Signatures are raw Ed25519 over the exact bytes of manifest.json, so anyone can
check them with stock OpenSSL 3 (``openssl pkeyutl -verify -pubin -inkey
public_key.pem -rawin -in manifest.json -sigfile manifest.sig``; ``-rawin``
is not in OpenSSL 1.1.1).

Pinning: a key proves nothing unless a verifier knows it is the MSP's. The
public key is recorded in the hash chain as a history-only event
(``key.pinned``: algorithm, fingerprint, PEM; subject null, so every
dossier's chain carries it), before the first dossier it signs; ``msptui keys
retire`` records ``key.retired`` (fingerprint, reason) and moves the key files
aside, so the next export makes and pins a new key. ``verify-dossier``
accepts a signature only by a key pinned at or before the dossier's chain
head and not retired when the dossier was generated (``key_history``).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import UserError

PRIVATE_NAME = "dossier_signing_key.pem"
PUBLIC_NAME = "dossier_signing_key.pub.pem"
KIND_PINNED = "key.pinned"
KIND_RETIRED = "key.retired"
ALGORITHM = "Ed25519"


def key_dir() -> Path:
    override = os.environ.get("MSPTUI_KEY_DIR")
    if override:
        return Path(override).expanduser()
    from .identity import config_dir

    return config_dir()


def private_path() -> Path:
    return key_dir() / PRIVATE_NAME


def public_path() -> Path:
    return key_dir() / PUBLIC_NAME


def fingerprint(public_pem: bytes) -> str:
    """SHA-256 of the raw 32-byte public key, hex: short enough to read out on the phone."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    private_path: Path
    public_path: Path
    public_pem: bytes
    fingerprint: str


def init_key() -> KeyInfo:
    """Create the key pair; refuses to replace an existing key (old dossiers were signed by it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder = key_dir()
    priv, pub = private_path(), public_path()
    if priv.exists():
        raise UserError(
            f"a signing key already exists at {priv} (fingerprint {info().fingerprint}); "
            "dossiers already signed with it verify against it: move it away yourself to replace it"
        )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    fd = os.open(priv, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.write(fd, private_pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(priv, 0o600)
    pub.write_bytes(public_pem)
    return KeyInfo(priv, pub, public_pem, fingerprint(public_pem))


def _check_private(path: Path) -> None:
    st = path.stat()
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise UserError(
            f"signing key {path} is readable by others (mode {stat.S_IMODE(st.st_mode):o}); "
            f"run 'chmod 600 {path}' and check who may have copied it"
        )
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise UserError(f"signing key {path} belongs to another user; refusing to sign with it")


def _load_private():
    from cryptography.hazmat.primitives import serialization

    path = private_path()
    _check_private(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise UserError(f"{path} is not a readable unencrypted Ed25519 private key") from None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"{path} is not an Ed25519 key")
    return key


def configured() -> bool:
    return private_path().exists()


def info() -> KeyInfo:
    from cryptography.hazmat.primitives import serialization

    key = _load_private()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyInfo(private_path(), public_path(), public_pem, fingerprint(public_pem))


def sign(data: bytes) -> tuple[bytes, bytes]:
    """Sign ``data``: (64-byte signature, public key PEM)."""
    from cryptography.hazmat.primitives import serialization

    key = _load_private()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key.sign(data), public_pem


def verify_signature(public_pem: bytes, data: bytes, signature: bytes) -> str | None:
    """None if the signature is good, else a one-line reason."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(public_pem)
    except (ValueError, TypeError):
        return "public_key.pem is not a readable public key"
    if not isinstance(key, Ed25519PublicKey):
        return "public_key.pem is not an Ed25519 key"
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return "manifest.sig is not a valid signature of manifest.json by public_key.pem"
    return None


# ---------------------------------------------------------------------------
# pinning in the chain
# ---------------------------------------------------------------------------


@dataclass
class PinnedKey:
    """One signing key as the chain records it."""

    fingerprint: str
    public_pem: str
    pinned_event: int
    pinned_at: str
    retired_event: int | None = None
    retired_at: str | None = None
    reason: str | None = None

    def retired_by(self, *, event_id: int | None = None, at: str | None = None) -> bool:
        """Whether the key was retired at or before chain event ``event_id``, or at or before instant ``at``."""
        if self.retired_event is None:
            return False
        if event_id is not None and self.retired_event <= event_id:
            return True
        if at is not None and self.retired_at is not None:
            from .chain import parse_stamp

            return parse_stamp(self.retired_at) <= parse_stamp(at)
        return False


def key_history(events: Iterable) -> dict[str, PinnedKey]:
    """Every key pinned (and retired) in ``events`` (chain order), by fingerprint. A retirement of an unpinned key is kept too."""
    keys: dict[str, PinnedKey] = {}
    for event in events:
        payload = event.payload if isinstance(event.payload, dict) else {}
        fp = payload.get("fingerprint")
        if not isinstance(fp, str):
            continue
        if event.kind == KIND_PINNED and fp not in keys:
            keys[fp] = PinnedKey(fp, str(payload.get("public_key", "")), event.id, event.at)
        elif event.kind == KIND_RETIRED:
            entry = keys.setdefault(fp, PinnedKey(fp, "", 0, ""))
            if entry.retired_event is None:
                entry.retired_event, entry.retired_at, entry.reason = event.id, event.at, payload.get("reason")
    return keys


def stored_history(store) -> dict[str, PinnedKey]:
    """``key_history`` of a database (the MSP's own events: subject null, indexed)."""
    from .chain import Event

    rows = store.conn.execute("SELECT * FROM events WHERE subject IS NULL AND kind IN (?, ?) ORDER BY id",
                              (KIND_PINNED, KIND_RETIRED))
    return key_history(Event.from_row(dict(r)) for r in rows)


def pin(store, key: "KeyInfo") -> int:
    """Record ``key`` in the chain (once); returns the event that pins it."""
    with store.transaction():
        known = stored_history(store).get(key.fingerprint)
        if known is not None and known.pinned_event:
            return known.pinned_event
        event = store.append_in_transaction(KIND_PINNED, {
            "algorithm": ALGORITHM, "fingerprint": key.fingerprint, "public_key": key.public_pem.decode("ascii"),
        })
        return event.id


@dataclass(frozen=True)
class Signer:
    """The key an export signs with: pinned in this database, never retired."""

    info: "KeyInfo"
    pinned_event: int
    created: bool


def signer_for(store) -> Signer:
    """The signing key, created (owner-only) if there is none and pinned in this database if it is not yet."""
    created = False
    if not configured():
        init_key()
        created = True
    key = info()
    known = stored_history(store).get(key.fingerprint)
    if known is not None and known.retired_event is not None:
        raise UserError(
            f"the signing key at {private_path()} (fingerprint {key.fingerprint}) was retired in this database "
            f"(event {known.retired_event}); move it away and run 'msptui keys init' for a new one"
        )
    return Signer(key, pin(store, key), created)


def retire(store, fingerprint: str, reason: str | None) -> tuple[int, Path | None]:
    """Record the key's retirement; if it is this installation's key, move its files aside (the next export makes a new one).

    Returns the event id and where the private key was moved (None if it was not this installation's).
    """
    with store.transaction():
        history = stored_history(store)
        known = history.get(fingerprint)
        if known is not None and known.retired_event is not None:
            raise UserError(f"key {fingerprint} was already retired (event {known.retired_event})")
        if known is None:
            raise UserError(f"key {fingerprint} is not recorded in {store.path} (see 'msptui keys show')")
        event = store.append_in_transaction(KIND_RETIRED, {"fingerprint": fingerprint, "reason": reason})
    moved = None
    if configured() and info().fingerprint == fingerprint:
        suffix = f".retired-{fingerprint[:16]}"
        moved = private_path().with_name(PRIVATE_NAME + suffix)
        os.replace(private_path(), moved)
        if public_path().exists():
            os.replace(public_path(), public_path().with_name(PUBLIC_NAME + suffix))
    return event.id, moved

