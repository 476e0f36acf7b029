"""Writing files so that a failure never leaves one half-written."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_atomically(out: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``out``, then move it into place.

    The temporary file is removed whatever happens, so ``out`` is either the old file (or absent)
    or the complete new one.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "note.txt"
    >>> write_atomically(target, lambda tmp: tmp.write_text("done")).read_text()
    'done'
    """
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
