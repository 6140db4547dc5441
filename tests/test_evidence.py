"""Evidence hashing: streamed, cancellable, and refusing a file that changes underneath it."""

import hashlib
import os
import stat
import threading

import pytest

from msptui.errors import UserError
from msptui.evidence import HashCancelled, hash_file


def test_hash_matches_hashlib_and_reports_progress(tmp_path):
    path = tmp_path / "img.bin"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    seen = []
    result = hash_file(path, progress=lambda done, total: seen.append((done, total)), chunk=1024 * 1024)
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and result.size == path.stat().st_size
    assert [d for d, _ in seen] == [1048576, 2097152, 3145728, 3145745]


def test_cancel_stops_between_chunks(tmp_path):
    path = tmp_path / "img.bin"
    path.write_bytes(b"x" * (4 * 1024 * 1024))
    calls = []
    with pytest.raises(HashCancelled, match="nothing recorded"):
        hash_file(path, cancelled=lambda: len(calls) >= 2, progress=lambda d, t: calls.append(d), chunk=1024 * 1024)
    assert len(calls) == 2


def test_file_that_changes_while_hashing_is_refused(tmp_path):
    path = tmp_path / "live.log"
    path.write_bytes(b"a" * (2 * 1024 * 1024))
    grown = threading.Event()

    def progress(done, total):
        if not grown.is_set():
            with open(path, "ab") as handle:  # the attacker (or a log writer) appends mid-hash
                handle.write(b"more")
            grown.set()

    with pytest.raises(UserError, match="changed while it was being hashed"):
        hash_file(path, progress=progress, chunk=512 * 1024)


def test_not_a_file(tmp_path):
    with pytest.raises(UserError, match="not a regular file"):
        hash_file(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    with pytest.raises(UserError, match="not a regular file"):
        hash_file(fifo)
