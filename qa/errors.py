"""Project exceptions, turned into one clear line by the CLI and a JSON error by the API.

DocQAError
├── InvalidQuestionError      empty, whitespace-only or over-long question (HTTP 422)
├── IndexNotFoundError        no index at the given folder (HTTP 503)
├── IndexCorruptError         index files damaged or from another model/version (HTTP 503)
├── DocumentNotFoundError     unknown document id (HTTP 404)
├── UnsupportedFileError      a file type we cannot read (HTTP 415)
├── FileTooLargeError         an upload over the size limit (HTTP 413)
├── IngestError               a path that cannot be read or written (HTTP 400/500)
└── ConfigError               a setting (environment variable) with an unusable value
"""

from __future__ import annotations


class DocQAError(Exception):
    """Base class: every message is a complete sentence a user can act on."""

    status_code: int = 400


class InvalidQuestionError(DocQAError):
    status_code = 422


class IndexNotFoundError(DocQAError):
    status_code = 503


class IndexCorruptError(DocQAError):
    status_code = 503


class DocumentNotFoundError(DocQAError):
    status_code = 404


class UnsupportedFileError(DocQAError):
    status_code = 415


class FileTooLargeError(DocQAError):
    status_code = 413


class IngestError(DocQAError):
    status_code = 400


class ConfigError(DocQAError):
    status_code = 500
