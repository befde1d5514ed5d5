"""Models registered before the package layout (<= 5609f74) pickled `pipelines.pyfunc_model.CreditModel`."""

from pipelines.tracking.pyfunc_model import CreditModel  # noqa: F401
