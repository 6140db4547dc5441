"""Refusing files that others could have changed, or that are not what they look like.

Three checks, each a small function called where the file is opened:

- ``check_database_files``: the database, its -wal and its -shm must not be
  writable by other users (nor by the group, unless group mode is on:
  ``MSPTUI_GROUP_MODE=1``). Anyone who can write them can rewrite history
  and every record with it; the error gives the ``chmod`` to run.
- ``open_regular``: an evidence file is opened without following a symbolic
  link and without blocking on a FIFO or device (``O_NOFOLLOW | O_NONBLOCK``),
  then ``fstat`` must say it is a regular file: what is hashed is the file
  that was checked, not one swapped in between.
- ``check_no_symlinks``: no folder of an export path may be a symbolic link
  (the base folder and everything below it; above it, only root's links in
  folders only root may write, such as a distribution's /var -> /private/var),
  so a link planted in the exports folder cannot send a dossier elsewhere.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import UserError


def _shared_write(mode: int, group_mode: bool) -> str | None:
    if mode & stat.S_IWOTH:
        return "other users"
    if mode & stat.S_IWGRP and not group_mode:
        return "its group"
    return None


def check_database_files(path: Path | str) -> None:
    """Refuse a database (or its -wal / -shm) that other users, or the group outside group mode, may write."""
    from .paths import group_mode

    path = Path(path)
    grouped = group_mode()
    loose: list[tuple[Path, int, str]] = []
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            st = os.stat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            # '--db /dev/null' was told to 'run: chmod 600 /dev/null'; a device, FIFO or socket is no database
            kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                    else "a device")
            raise UserError(f"{candidate} is not a regular file ({kind}): point --db / MSPTUI_DB at the database file")
        who = _shared_write(stat.S_IMODE(st.st_mode), grouped)
        if who:
            loose.append((candidate, stat.S_IMODE(st.st_mode), who))
    if not loose:
        return
    first, mode, who = loose[0]
    target = "660" if grouped else "600"
    names = " ".join(_quote(str(p)) for p, _, _ in loose)
    raise UserError(
        f"refusing to open {first}: it is writable by {who} (mode {mode:o}), who could rewrite its history; "
        f"run: chmod {target} {names}"
        + ("" if grouped else " (or set MSPTUI_GROUP_MODE=1 if the group is meant to share it)")
    )


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def open_regular(path: Path | str) -> int:
    """Open ``path`` for reading as a file descriptor: no symlink followed, no blocking on a FIFO, regular files only."""
    import errno

    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # EMLINK: FreeBSD's answer to O_NOFOLLOW on a link
            raise UserError(f"{path}: is a symbolic link; give the file itself (msptui does not follow links to evidence)") from None
        if exc.errno == errno.ENOENT:
            raise UserError(f"{path}: no such file") from None
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                    else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                    else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
            raise UserError(f"{path}: not a regular file ({kind})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_no_symlinks(base: Path | str, target: Path | str | None = None) -> None:
    """Refuse a symbolic link at ``base`` or anywhere between it and ``target``; above ``base``, one that
    is not root's or sits in a folder others may write (``/tmp``)."""
    base = Path(os.path.abspath(base))
    below = [base]
    if target is not None:
        target = Path(os.path.abspath(target))
        below += [p for p in [target, *target.parents] if base in p.parents]
    for part in below:
        if os.path.islink(part):
            raise UserError(
                f"{part} is a symbolic link (to {os.readlink(part)!r}): refusing to write a dossier through it; "
                "give the real folder"
            )
    for part in base.parents:
        try:
            st = os.lstat(part)
        except OSError:
            continue
        if not stat.S_ISLNK(st.st_mode):
            continue
        try:
            shared_parent = bool(os.stat(part.parent).st_mode & stat.S_IWOTH)
        except OSError:
            shared_parent = True
        if st.st_uid != 0 or shared_parent:
            raise UserError(
                f"{part} is a symbolic link (to {os.readlink(part)!r}) that "
                + ("another user owns" if st.st_uid != 0 else "sits in a folder anyone may write")
                + ": refusing to write a dossier through it; give the real folder"
            )
