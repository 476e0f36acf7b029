"""The model as an MLflow pyfunc, logged into a run (and registered) by :func:`log_risk_model`.

MLflow is an optional heavy dependency: importing this module does not import it; the first use
of a name here does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from risk._pyfunc import log_risk_model, model_signature

__all__ = ["log_risk_model", "model_signature"]


def __getattr__(name: str) -> Any:
    # risk._pyfunc subclasses mlflow's PythonModel at import time: load it on first use only.
    if name in __all__:
        from risk import _pyfunc

        return getattr(_pyfunc, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
