"""HTML -> PDF through headless Chromium's print-to-PDF (A4 from the page's ``@page`` rule).

Chromium is an external program (Debian's ``chromium``, installed by ``make test``): this
module only runs it, with the flags this machine's closed network needs, on a local file.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

#: Flags for a headless, offline, throwaway Chromium (no sandbox: CI runs as root); the
#: family-guide layout test starts Chromium with the same flags.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)


class PdfError(RuntimeError):
    """Chromium is missing, failed or timed out; the message says which."""


def print_to_pdf(
    html: str, pdf: Path, *, chromium: str | None = None, timeout: float = 120
) -> None:
    """Write ``html`` as a PDF to ``pdf``; raise :class:`PdfError` when that fails."""
    program = chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if program is None:
        raise PdfError("chromium not found: install Debian's chromium (make chromium)")
    with tempfile.TemporaryDirectory(prefix="pedonc-pdf-") as scratch:
        page = Path(scratch) / "page.html"
        page.write_text(html, encoding="utf-8")
        target = Path(scratch) / "out.pdf"
        command = [
            program,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={Path(scratch) / 'profile'}",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        try:
            run = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"chromium did not finish within {timeout:g} s") from None
        if run.returncode != 0 or not target.exists() or target.stat().st_size == 0:
            tail = run.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise PdfError(f"chromium failed (exit {run.returncode}): {' | '.join(tail)}")
        shutil.move(str(target), pdf)
