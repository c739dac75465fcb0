"""Reading scanned PDF pages with OCR: poppler's pdftoppm renders a page, tesseract reads it.

Both are separate programs (Debian: tesseract-ocr, poppler-utils); without them a scanned page
cannot be read, and the document says so in a warning instead of silently holding no text.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

RESOLUTION_DPI = 200
RENDER_TIMEOUT_S = 60
READ_TIMEOUT_S = 120
INSTALL_HINT = "install tesseract-ocr and poppler-utils to read scanned pages"


class OcrError(Exception):
    """One page could not be rendered or read; the message says why."""


def find_tools() -> tuple[str, str] | None:
    """(pdftoppm, tesseract) paths when both are installed, else None."""
    pdftoppm, tesseract = shutil.which("pdftoppm"), shutil.which("tesseract")
    return (pdftoppm, tesseract) if pdftoppm and tesseract else None


def _run(cmd: list[str], timeout: float) -> bytes:
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise OcrError(f"{Path(cmd[0]).name} took over {timeout:.0f} s") from e
    except OSError as e:
        raise OcrError(f"{Path(cmd[0]).name} could not run ({e.strerror or e})") from e
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrError(f"{Path(cmd[0]).name} failed ({detail[-1] if detail else f'exit code {done.returncode}'})")
    return done.stdout


class PdfOcr:
    """OCR for the pages of one PDF, which is written once to a private temporary folder."""

    def __init__(self, data: bytes, tools: tuple[str, str]) -> None:
        self._tools = tools
        self._data = data
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> PdfOcr:
        self._dir = tempfile.TemporaryDirectory(prefix="docqa-ocr-")
        (Path(self._dir.name) / "in.pdf").write_bytes(self._data)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._dir is not None:
            self._dir.cleanup()

    def read_page(self, number: int) -> str:
        """The text tesseract reads on 1-based page `number`.

        Raises:
            OcrError: the page could not be rendered or read in time.
        """
        assert self._dir is not None, "use PdfOcr as a context manager"
        pdftoppm, tesseract = self._tools
        folder = Path(self._dir.name)
        image = folder / f"page-{number}"
        _run(
            [pdftoppm, "-r", str(RESOLUTION_DPI), "-f", str(number), "-l", str(number), "-png", "-singlefile"]
            + [str(folder / "in.pdf"), str(image)],
            RENDER_TIMEOUT_S,
        )
        png = image.with_suffix(".png")
        try:
            out = _run([tesseract, str(png), "-"], READ_TIMEOUT_S)
        finally:
            png.unlink(missing_ok=True)
        return out.decode("utf-8", "replace").replace("\f", "\n")
