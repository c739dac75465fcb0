"""Web settings: the same qa Settings the CLI uses, read from QA_* environment variables once."""

from __future__ import annotations

from functools import lru_cache

from qa.config import Settings

# Form posts and JSON bodies other than uploads never need more than this.
MAX_FORM_BYTES = 1024 * 1024
# Room for multipart boundaries and part headers on top of the upload limit itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Turns of conversation sent back with each question; older turns never matter for follow-ups.
MAX_HISTORY_TURNS = 10
MAX_UPLOAD_FILES = 20


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment (QA_INDEX_DIR, QA_API_KEY, QA_MAX_UPLOAD_BYTES, ...), read once."""
    return Settings.from_env()
