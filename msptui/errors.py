"""The one exception type a user ever sees, and how low-level failures become one line.

Anything raised as ``UserError`` is printed by the CLI as a single line and
exits 1; anything else is a bug and keeps its traceback. SQLite and OS errors
reach the user through ``describe_sqlite_error`` / ``describe_os_error``: one
line naming the file, the cause and the next step (a damaged database is
restored from a backup or the replica, never "fixed" in place).
"""

from __future__ import annotations

import errno


class UserError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class FieldError(UserError):
    """One typed value refused, in one line: ``field: problem``.

    ``field`` is what the CLI calls the input (``--cap``, ``tz``); ``key`` is
    the same name without dashes (``cap``), the name a form gives the field,
    so a form can say ``Spending cap: ...`` in its own terms while the CLI says
    ``--cap: ...`` for the same refusal; ``problem`` is the reason alone.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.key = field.lstrip("-").replace("-", "_")
        self.problem = problem
        super().__init__(f"{field}: {problem}")

    def __reduce__(self):  # picklable with both arguments (a worker's error may cross a process boundary)
        return (type(self), (self.field, self.problem))


class DamagedDatabase(UserError):
    """The database file (or a record in it) can no longer be read as written."""


#: what to do about a damaged database (README "Disaster recovery")
RECOVER = ("run 'msptui verify --full' to see the damage, then restore from a backup or the replica "
           "('msptui restore --from URL --to NEW.db')")


def describe_sqlite_error(path: object, exc: BaseException) -> str:
    """One line for an SQLite error on ``path``: what it means and what to do next."""
    msg = str(exc) or type(exc).__name__
    low = msg.lower()
    if "full" in low:
        return f"{path}: the disk is full ({msg}); nothing was written: free space and try again"
    if "readonly" in low or "read-only" in low:
        return (f"{path}: cannot write: the database file, its folder or its mount is read-only ({msg}); "
                "nothing was written")
    if "locked" in low or "busy" in low:
        return f"{path}: locked by another process ({msg}); try again"
    if "unable to open" in low or "cannot open" in low:
        return (f"{path}: cannot open the database or its -wal/-shm files ({msg}): check the folder's "
                "permissions, mount and free space")
    if "interrupt" in low:
        return f"{path}: interrupted ({msg}); nothing was written"
    return f"{path}: the database file is damaged or unreadable ({msg}); {RECOVER}"


def describe_os_error(exc: OSError, path: object | None = None) -> str:
    """One line for an OS error: the path, the cause in words, and that nothing was written."""
    where = path or exc.filename or "(unknown path)"
    cause = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exhausted",
        errno.EROFS: "the file system is mounted read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EFBIG: "the file is larger than allowed (file size limit)",
        errno.EIO: "an I/O error (failing disk or lost mount)",
    }.get(exc.errno or -1, exc.strerror or str(exc))
    return f"{where}: {cause}; nothing was written"
