"""The local governance store: the audit trail as MLflow runs of `<MODEL>-governance`, under the registry lock.

Nothing is re-exported here (the modules import MLflow through the tracking adapter). Import from the module:
`store` (`LocalStore`), `trail` (`load_trail`, `read_trail`, `record`), `actions` (`review`, `promote`,
`rollback`), `grant`, `rebuild`, `recovery` and `ui_approvals`.
"""

__all__: list[str] = []
