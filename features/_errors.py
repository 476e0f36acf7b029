"""The library's errors: one base, and kinds beneath it that the command line maps to exit codes.

They stand on the lowest floor so that every package can raise them. Every error the library
raises on purpose is a :class:`RiskError`; its kind says whose move it is:

* :class:`InputError`: what was given is wrong (records, a configuration, a catalogue, a
  capacity, a decision); fix the input. Exit code 2.
* :class:`UnavailableError`: a service or the environment cannot be reached or lacks something
  (a store, a tracking server, Spark, an optional package); try again or fix the environment.
  Exit code 1.
"""

from __future__ import annotations


class RiskError(Exception):
    """Base of every error the library raises on purpose."""

    #: Exit code of the ``risk`` command for this kind of error.
    exit_code: int = 1


class InputError(RiskError, ValueError):
    """What was given is wrong: bad records, configuration, catalogue, capacity or request."""

    exit_code = 2


class UnavailableError(RiskError):
    """A service or the environment cannot be reached, or lacks what is needed."""

    exit_code = 1
