"""Project exceptions, turned into one clear line by the CLI and a JSON error by the API.

The core knows nothing of HTTP: `web.app.STATUS_CODES` maps each class to a status code.

DocQAError
├── InvalidQuestionError      empty, whitespace-only or over-long question
├── IndexNotFoundError        no index at the given folder
├── IndexCorruptError         index files damaged or from another model/version
├── DocumentNotFoundError     unknown document id
│   └── UnknownDocumentsError ids to ask within that the index does not hold
├── UnsupportedFileError      a file type we cannot read
├── FileTooLargeError         an upload over the size limit
├── IngestError               a path or file that cannot be read, or an index that cannot be written
├── ConfigError               a setting (environment variable) with an unusable value
├── MissingExtraError         an optional feature whose extra is not installed (the CLI exits 2)
└── ModelError                the answerer's model file is missing, damaged or of another version
"""

from __future__ import annotations


class DocQAError(Exception):
    """Base class: every message is a complete sentence a user can act on."""


class InvalidQuestionError(DocQAError):
    """The question is empty, whitespace only or too long."""


class IndexNotFoundError(DocQAError):
    """No index has been built at the folder given."""


class IndexCorruptError(DocQAError):
    """The index files are damaged, or were built by another model or format version."""


class DocumentNotFoundError(DocQAError):
    """No document with the id given is in the index."""


class UnknownDocumentsError(DocumentNotFoundError):
    """A question restricted to documents the index does not hold; the message names them."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        names = ", ".join(repr(m) for m in missing)
        super().__init__(f"No document with id {names} to ask within; GET /api/documents lists the ids.")

    def __reduce__(self) -> tuple[type[UnknownDocumentsError], tuple[list[str]]]:
        # Pickled from `missing`, not the message: it crosses to and from the upload worker process.
        return (type(self), (self.missing,))


class UnsupportedFileError(DocQAError):
    """A file whose type docqa cannot read."""


class FileTooLargeError(DocQAError):
    """An upload over the size limit."""


class IngestError(DocQAError):
    """A path or file that cannot be read, or an index folder that cannot be written."""


class ConfigError(DocQAError):
    """A setting (environment variable) with an unusable value."""


class MissingExtraError(DocQAError):
    """An optional feature (e.g. `--engine ray`) whose extra is not installed; the message names it."""


class ModelError(DocQAError):
    """The answerer's model files are missing, damaged, or of a version this docqa cannot read."""
