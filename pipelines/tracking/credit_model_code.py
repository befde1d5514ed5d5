"""The credit model as MLflow "models from code": the file `log_credit_model` logs in place of a pickled object.

MLflow runs this file when it loads the model (after putting the model's own copy of `features/` and
`pipelines/` on the path), so the artifact holds no pickle: nothing in it executes code on load except this
file and the logged packages, which a reviewer can read. creditflow itself never imports this module.
"""

from mlflow.models import set_model

from pipelines.tracking.pyfunc_model import CreditModel

set_model(CreditModel())
