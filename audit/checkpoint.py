"""Signed checkpoints of the access log's chain head, kept outside the database.

The HMAC chain shows that no entry was altered, but not how long the log was:
whoever can bypass the database's triggers (a superuser) could cut its tail and
move the head back. A checkpoint pins the head (last_id, last_hash, count) at a
moment, signed with ``MNR_AUDIT_SIGNING_KEY`` (Ed25519) and linked to the
previous checkpoint, as one JSON line appended to
``MNR_AUDIT_CHECKPOINT_DIR/checkpoints.jsonl``. ``verify_audit`` then checks
that the log still holds, for every checkpoint, the entry at its last_id with
its hash, and the head is at or after the last one. The file lives outside the
database (a volume of its own, ideally shipped off-host to WORM storage, see
docs/audit.md): a line removed or edited breaks the signatures or the links.

A line (keys sorted, no spaces)::

    {"count":12,"kid":"…","last_hash":"…","last_id":12,"prev":"<sha256 of the previous line>",
     "seq":3,"sig":"<base64url Ed25519 signature>","time":"2026-12-02T10:15:00+00:00","v":1}

The signature covers ``mnr-audit-checkpoint-v1\\n`` followed by the line's
canonical JSON without ``sig``. The first line's ``prev`` is 64 zeros.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.utils import timezone

from .models import GENESIS, AccessLog, AuditChainHead

FILE_NAME = "checkpoints.jsonl"
VERSION = 1
DOMAIN = b"mnr-audit-checkpoint-v1\n"
FIELDS = frozenset({"v", "seq", "time", "last_id", "last_hash", "count", "prev", "kid", "sig"})
_HEX = frozenset("0123456789abcdef")


class CheckpointError(Exception):
    """A checkpoint could not be written (the message says why)."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    time: dt.datetime
    last_id: int
    last_hash: str
    count: int
    prev: str
    line_hash: str  # the next line's ``prev``

    def describe(self) -> str:
        return f"checkpoint #{self.seq} of {self.time.isoformat()}"


@dataclass
class CheckpointFile:
    """The checkpoints read from the file, up to its first bad line (if any)."""

    path: Path
    checkpoints: list[Checkpoint] = field(default_factory=list)
    problem: str = ""
    bad_line: int | None = None

    @property
    def missing(self) -> bool:
        return not self.checkpoints and not self.problem

    @property
    def last(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


def checkpoint_path() -> Path:
    return Path(settings.MNR_AUDIT_CHECKPOINT_DIR) / FILE_NAME


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_b64decode(settings.MNR_AUDIT_SIGNING_KEY.strip()))


def _public_key() -> Ed25519PublicKey:
    return _private_key().public_key()


def public_key_text() -> str:
    """The verification key (base64url of the raw 32 bytes): give it to whoever
    verifies checkpoints elsewhere; it cannot sign."""
    raw = _public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode()


def key_id(public_key: Ed25519PublicKey | None = None) -> str:
    raw = (public_key or _public_key()).public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _signed_bytes(body: dict[str, Any]) -> bytes:
    return DOMAIN + _canonical({k: v for k, v in body.items() if k != "sig"}).encode()


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse_line(
    line: str,
    *,
    public_key: Ed25519PublicKey,
    previous: Checkpoint | None,
    check_link: bool = True,
) -> Checkpoint:
    """One line, checked: its form, its signature and (``check_link``) its link
    to the previous line. Raises CheckpointError naming what is wrong."""
    try:
        body = json.loads(line)
    except ValueError:
        raise CheckpointError("is not JSON (edited or cut)") from None
    if not isinstance(body, dict) or set(body) != FIELDS or body.get("v") != VERSION:
        raise CheckpointError("is not a checkpoint of this version (edited?)")
    if body["kid"] != key_id(public_key):
        raise CheckpointError(
            f"was signed with another key (kid {body['kid']!s:.16}, this key is "
            f"{key_id(public_key)}): edited, or MNR_AUDIT_SIGNING_KEY changed"
        )
    try:
        public_key.verify(_b64decode(str(body["sig"])), _signed_bytes(body))
    except (InvalidSignature, binascii.Error, ValueError):
        raise CheckpointError("has a bad signature (the line was edited)") from None
    if not (
        _is_count(body["seq"])
        and _is_count(body["last_id"])
        and _is_count(body["count"])
        and _is_hash(body["last_hash"])
        and _is_hash(body["prev"])
        and isinstance(body["time"], str)
    ):
        raise CheckpointError("has malformed fields")
    try:
        time = dt.datetime.fromisoformat(body["time"])
    except ValueError:
        raise CheckpointError("has a malformed time") from None
    checkpoint = Checkpoint(
        seq=body["seq"],
        time=time,
        last_id=body["last_id"],
        last_hash=body["last_hash"],
        count=body["count"],
        prev=body["prev"],
        line_hash=hashlib.sha256(line.encode()).hexdigest(),
    )
    if check_link:
        expected_prev = previous.line_hash if previous else GENESIS
        expected_seq = previous.seq + 1 if previous else 1
        if checkpoint.prev != expected_prev or checkpoint.seq != expected_seq:
            raise CheckpointError(
                "does not follow the line before it (lines were removed, inserted or reordered)"
            )
    if previous and (checkpoint.last_id < previous.last_id or checkpoint.count < previous.count):
        raise CheckpointError(
            f"records the head at entry {checkpoint.last_id}, behind entry "
            f"{previous.last_id} of the checkpoint before it"
        )
    return checkpoint


def _lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line number, text without its newline, whether it ended with a newline)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            complete = raw.endswith(b"\n")
            try:
                text = raw.rstrip(b"\n").decode()
            except UnicodeDecodeError:
                text = "\ufffd"
            yield number, text, complete


def read_checkpoints(path: Path | None = None) -> CheckpointFile:
    """Every checkpoint of the file, in order, verified line by line; stops at
    the first bad line (reported in ``problem``). No directory or no file: no
    checkpoint yet."""
    path = path or checkpoint_path()
    book = CheckpointFile(path=path)
    if not path.is_file():
        return book
    public_key = _public_key()
    previous: Checkpoint | None = None
    try:
        for number, text, complete in _lines(path):
            try:
                if not complete:
                    raise CheckpointError(
                        "is incomplete (no newline: an interrupted write, or cut)"
                    )
                previous = parse_line(text, public_key=public_key, previous=previous)
            except CheckpointError as exc:
                book.problem = f"line {number} {exc}"
                book.bad_line = number
                break
            book.checkpoints.append(previous)
    except OSError as exc:
        book.problem = f"cannot be read ({exc.strerror or exc})"
    return book


def _last_line(fd: int) -> str | None:
    """The file's last line, read from its end (the file only grows)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    block, end, data = 4096, size, b""
    while True:
        start = max(0, end - block)
        data = os.pread(fd, end - start, start) + data
        end = start
        if not data.endswith(b"\n"):
            raise CheckpointError(
                "the checkpoint file ends with an incomplete line: run verify_audit"
            )
        cut = data.rfind(b"\n", 0, len(data) - 1)
        if cut >= 0 or start == 0:
            return data[cut + 1 : -1].decode()


def _head() -> tuple[int, str, int]:
    row = AuditChainHead.objects.filter(id=1).values_list("last_id", "last_hash", "count").first()
    if row is None:
        if AccessLog.objects.exists():
            raise CheckpointError("the chain head is missing but the log has entries")
        return 0, GENESIS, 0
    return row


def _check_follows(last: Checkpoint, head: tuple[int, str, int]) -> None:
    last_id, last_hash, count = head
    behind = (
        last_id < last.last_id
        or count < last.count
        or (last_id == last.last_id and last_hash != last.last_hash)
    )
    if not behind and last.last_id:
        entry = AccessLog.objects.filter(pk=last.last_id).values_list("hash", flat=True).first()
        behind = entry != last.last_hash
    if behind:
        raise CheckpointError(
            f"not written: the log no longer holds entry {last.last_id} of the last "
            f"{last.describe()} (the head is at entry {last_id}): it was truncated, "
            "rolled back or rewritten. Run verify_audit."
        )


def write_checkpoint(*, now: dt.datetime | None = None) -> Checkpoint:
    """Append a signed checkpoint of the current chain head; refuse (CheckpointError)
    if the head is behind the last checkpoint or the file's last line is bad.
    The file is locked while its last line is read and the new one appended, so
    two writers (the beat task, the command) never fork the file."""
    directory = Path(settings.MNR_AUDIT_CHECKPOINT_DIR)
    directory.mkdir(parents=True, exist_ok=True, mode=0o750)
    path = directory / FILE_NAME
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        public_key = _public_key()
        text = _last_line(fd)
        last = None
        if text is not None:
            try:
                last = parse_line(text, public_key=public_key, previous=None, check_link=False)
            except CheckpointError as exc:
                raise CheckpointError(
                    f"the checkpoint file's last line {exc}: run verify_audit"
                ) from None
        head = _head()
        if last is not None:
            _check_follows(last, head)
        moment = (now or timezone.now()).astimezone(dt.UTC).replace(microsecond=0)
        body: dict[str, Any] = {
            "v": VERSION,
            "seq": last.seq + 1 if last else 1,
            "time": moment.isoformat(),
            "last_id": head[0],
            "last_hash": head[1],
            "count": head[2],
            "prev": last.line_hash if last else GENESIS,
            "kid": key_id(public_key),
        }
        body["sig"] = base64.urlsafe_b64encode(_private_key().sign(_signed_bytes(body))).decode()
        line = _canonical(body)
        data = (line + "\n").encode()
        if os.write(fd, data) != len(data):
            raise CheckpointError("the checkpoint line was not written whole (disk full?)")
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the lock
    if created:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return parse_line(line, public_key=public_key, previous=last)
