"""The dossier signing key: one Ed25519 key pair per MSP installation.

``msptui keys init`` creates it in the platform config directory
(``$MSPTUI_KEY_DIR``, else ``$MSPTUI_CONFIG_DIR``, else
``platformdirs.user_config_dir("msptui")``): the
folder owner-only (0700), the private key owner-only (0600). A key with looser
permissions is refused, as ssh does: a signing key others can read proves
nothing.

The private key is only ever read here to sign bytes; it is never written
anywhere else (not into a dossier, not into a log, not into an error message).
Signatures are raw Ed25519 over the exact bytes of manifest.json, so anyone can
check them with stock OpenSSL (``openssl pkeyutl -verify -pubin -inkey
public_key.pem -rawin -in manifest.json -sigfile manifest.sig``).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

PRIVATE_NAME = "dossier_signing_key.pem"
PUBLIC_NAME = "dossier_signing_key.pub.pem"


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
