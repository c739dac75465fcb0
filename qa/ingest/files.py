"""Finding and reading files from disk, refusing what is too big before reading it."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.errors import FileTooLargeError, IngestError, UnsupportedFileError
from qa.ingest.limits import MAX_FILE_BYTES, size_text

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of one file, refusing a file over `max_bytes` before reading it.

    At most `max_bytes + 1` bytes are ever read, so a file that grows while it is read, or a
    special file without a size, cannot exhaust memory either.

    Raises:
        FileTooLargeError: the file is larger than `max_bytes`.
        OSError: the file cannot be opened or read.
    """
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise FileTooLargeError(f"{path.name}: the file is {size_text(size)}; the limit is {size_text(max_bytes)}.")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLargeError(f"{path.name}: the file is larger than the limit of {size_text(max_bytes)}.")
    return data


def iter_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(doc_id, path) for every supported file under `root`; ids are POSIX paths relative to it."""
    if root.is_file():
        yield root.name, root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts):
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path.relative_to(root).as_posix(), path


def unsupported(name: str, suffix: str) -> UnsupportedFileError:
    return UnsupportedFileError(
        f"{name}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}."
    )


def check_root(root: Path) -> None:
    """Refuse a path to ingest before any work starts.

    Raises:
        IngestError: the path does not exist.
        UnsupportedFileError: the path is a file of a type docqa cannot read.
    """
    if not root.exists():
        raise IngestError(f"{root}: no such file or folder.")
    if root.is_file() and root.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise unsupported(str(root), root.suffix)
