"""``from risk import Screener`` imports no optional heavy dependency until it is used."""

from __future__ import annotations

import subprocess
import sys

#: Packages a screening needs only for some of its uses: the review store, MLflow models, the app,
#: SHAP's plots, Spark.
HEAVY = ("sqlalchemy", "mlflow", "gradio", "shap", "pyspark")


def test_importing_the_screener_imports_no_heavy_dependency() -> None:
    code = (
        "import sys; from risk import Screener; "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == []
