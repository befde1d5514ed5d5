"""The team server's governance store as a client sees it: its creditflow endpoints and its audit table.

Nothing is re-exported here (the modules import MLflow). Import from the module: `store` (`RemoteStore`),
`client` (`TeamSession`, `team_session`) and `team_policy` (`TeamPolicies`).
"""

__all__: list[str] = []
