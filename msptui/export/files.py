"""The dossier folder's file names, hashing, and writing a folder or file so a crash leaves nothing half-written.

A dossier (and a review pack) is built beside its target under a hidden
temporary name, every file fsynced, then renamed into place: a reader sees
either the complete folder or none. The same helpers serve the review pack.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .. import leftovers, paths
from ..errors import UserError

FILE_PDF = "dossier.pdf"
FILE_JSON = "dossier.json"
FILE_EVENTS = "events.jsonl"
FILE_VERIFY = "VERIFY.txt"
FILE_PUBKEY = "public_key.pem"
FILE_MANIFEST = "manifest.json"
FILE_SIG = "manifest.sig"
FILE_SUMS = "SHA256SUMS"


def utc_text(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def folder_stamp(generated_at: datetime) -> str:
    return generated_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def target_folder(base: Path, client_id: str, incident_id: str, generated_at: datetime) -> Path:
    return Path(base) / client_id / incident_id / folder_stamp(generated_at)


def write_file(folder: Path, name: str, body: bytes) -> None:
    """Create ``folder/name`` (never overwrite), write all of ``body``, fsync."""
    path = folder / name
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, paths.file_mode())
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def mkdirs(path: Path) -> None:
    """Create missing folders owner-only (or group mode), like the database's."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=paths.dir_mode())
        except FileExistsError:
            pass


def write_folder(target: Path, files: dict[str, bytes], *, on_tmp: Callable[[Path], None] | None = None,
                 before_rename: Callable[[], object] | None = None) -> Path:
    """Write ``files`` into a hidden temporary folder beside ``target``, then rename it into place.

    ``before_rename`` runs once every file is on disk and before the rename (the
    export records its distribution there): if it fails, nothing appears.
    """
    if target.exists():
        raise UserError(f"{target} already exists: an export with this timestamp was already written")
    mkdirs(target.parent)
    leftovers.sweep(target.parent)  # hidden partial dossiers left by a killed export
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    leftovers.claim(tmp)
    if on_tmp:
        on_tmp(tmp)
    try:
        os.chmod(tmp, paths.dir_mode())
        for name, body in files.items():
            write_file(tmp, name, body)
        fsync_dir(tmp)
        if target.exists():
            raise UserError(f"{target} already exists: an export with this timestamp was already written")
        if before_rename is not None:
            before_rename()
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(target.parent)
    return target


def write_file_atomically(target: Path, body: bytes, on_tmp: Callable[[Path], None] | None = None) -> None:
    """One file (a review pack): written under a hidden temporary name, fsynced, linked into place (never replacing one)."""
    mkdirs(target.parent)
    if target.exists():
        raise UserError(f"{target} already exists: a file with this name was already written")
    leftovers.sweep(target.parent)  # hidden partial files left by a killed print
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    tmp = Path(name)
    leftovers.claim(tmp)
    if on_tmp:
        on_tmp(tmp)
    try:
        os.fchmod(fd, paths.file_mode())
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        try:
            os.link(tmp, target)  # never replaces an existing file
        except FileExistsError:
            raise UserError(f"{target} already exists: a file with this name was already written") from None
        except OSError:
            if target.exists():
                raise UserError(f"{target} already exists: a file with this name was already written") from None
            os.rename(tmp, target)
    finally:
        if fd >= 0:
            os.close(fd)
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
    fsync_dir(target.parent)
