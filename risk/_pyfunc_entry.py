"""MLflow "models from code" entry: loading the model imports this file, and unpickles nothing."""

from mlflow.models import set_model

from risk._pyfunc import RiskPyfunc

set_model(RiskPyfunc())
