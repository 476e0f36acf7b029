"""Writing files so that a failure never leaves one half-written."""

from risk._io import write_atomically

__all__ = ["write_atomically"]
