"""
Who wrote the alexa provider's session file: the "never fight the user" rule.

Beside every file we write sits ``<file>.handoff.json``, the hashes of the last few files we
wrote there, with when and from which cookies. Nothing secret: no cookie, no e-mail address.

The rule, in two halves:

1. :func:`ownership_of` compares the file on disk with that record. A file whose hash we wrote
   is ours; any other file was written by someone else: the alexa provider's own sign-in dialog
   (Music Assistant rewrites the file only there), or a person.
2. The writer replaces our own files freely. Someone else's file is left alone for as long as
   Amazon accepts it for this account (one request tells); it is replaced only when it is stale
   (expired, rejected, another account's cookies, unreadable), after a backup, or when the user
   says so (``force``). A sign-in the user just made therefore always wins over ours, until
   Amazon drops it.

A lost or unreadable record only costs our claim on the file: it then counts as someone
else's, and is kept while it works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Final

from mashumaro.exceptions import InvalidFieldValue, MissingField

from music_assistant_alexa.auth.bounds import load_json
from music_assistant_alexa.auth.models import StoreModel
from music_assistant_alexa.auth.private_files import NotAFileError, read_small_file

from .disk import RECORD_SUFFIX, write_atomically

if TYPE_CHECKING:
    from pathlib import Path

RECORD_VERSION: Final = 1
#: Our record lists a few hashes and dates; anything larger is not ours.
MAX_RECORD_BYTES: Final = 64 * 1024


@dataclass
class WrittenFile(StoreModel):
    """One file we wrote."""

    sha256: str = field(repr=False)
    #: Epoch seconds of the write.
    written_at: float
    #: Epoch seconds when Amazon issued the cookies in it.
    cookie_timestamp: float
    format: str


@dataclass
class HandoffRecord(StoreModel):
    """The whole ``<file>.handoff.json``."""

    files: list[WrittenFile] = field(default_factory=list)
    schema_version: int = RECORD_VERSION

    #: Earlier hashes stay recognisable for a few writes: a rename that failed half-way, or a
    #: backup put back by hand, is still ours.
    MAX_FILES: ClassVar[int] = 5

    def add(self, written: WrittenFile) -> None:
        """
        Remember one more written file, keeping the newest :attr:`MAX_FILES`.

        :param written: The file.
        """
        self.files = [f for f in self.files if f.sha256 != written.sha256]
        self.files.append(written)
        del self.files[: -self.MAX_FILES]

    def find(self, sha256: str) -> WrittenFile | None:
        """
        Return our record of a file with this hash, if we wrote it.

        :param sha256: The file's hash.
        """
        return next((f for f in self.files if f.sha256 == sha256), None)

    @property
    def latest(self) -> WrittenFile | None:
        """Return the newest file we wrote."""
        return self.files[-1] if self.files else None


class Ownership(StrEnum):
    """Who wrote the session file, as far as our record knows."""

    MISSING = "missing"  # there is no file
    OURS = "ours"  # the file we wrote last
    OURS_EARLIER = "ours_earlier"  # a file we wrote before the last one
    FOREIGN = "foreign"  # someone else: the alexa provider's own sign-in dialog, or a person


def ownership_of(sha256: str | None, record: HandoffRecord | None) -> Ownership:
    """
    Return who wrote a file, by its hash and our record.

    :param sha256: The file's hash, or None when there is no file.
    :param record: Our record of written files, or None when there is none.
    """
    if sha256 is None:
        return Ownership.MISSING
    if record is None or (written := record.find(sha256)) is None:
        return Ownership.FOREIGN
    return Ownership.OURS if written is record.latest else Ownership.OURS_EARLIER


def record_file(path: Path) -> Path:
    """
    Return where the files we wrote to ``path`` are remembered.

    :param path: A session file.
    """
    return path.with_name(path.name + RECORD_SUFFIX)


def read_record(path: Path) -> HandoffRecord | None:
    """
    Return our record of the files written to ``path``, or None (missing or unreadable).

    :param path: A session file.
    """
    try:
        raw, _ = read_small_file(record_file(path), max_bytes=MAX_RECORD_BYTES)
        data = load_json(raw)
        if not isinstance(data, dict) or data.get("schema_version", 0) > RECORD_VERSION:
            return None
        return HandoffRecord.from_dict(data)
    except (
        OSError,
        NotAFileError,
        ValueError,  # BoundsError: not JSON, nested too deeply, numbers out of range
        TypeError,
        KeyError,
        MissingField,
        InvalidFieldValue,
    ):
        return None


def write_record(path: Path, record: HandoffRecord) -> None:
    """
    Store our record of the files written to ``path`` (atomically, 0600).

    :param path: A session file.
    :param record: The record.
    :raises HandoffStorageError: It could not be written.
    """
    payload = json.dumps(record.to_dict(), indent=2, sort_keys=True).encode()
    write_atomically(record_file(path), payload)
