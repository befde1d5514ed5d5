"""Governance: review, exceptions, promotion and rollback under four eyes, and the hash-chained audit trail.

Nothing is re-exported here: the stores import MLflow. Import from the module:

- `pipelines.governance.store`: `open_store`, `store_of`, the `GovernanceStore` port, with its two adapters
  `pipelines.governance.local` (MLflow runs) and `pipelines.governance.remote` (a team server);
- `pipelines.governance.actions`: `review`, `promote`, `rollback`; `pipelines.governance.grant`:
  `grant_exception`; `pipelines.governance.verify`: `verify`; `pipelines.governance.status`: what `status` shows;
- `pipelines.governance.rules`: the rules themselves, pure functions;
- `pipelines.governance.serve_check`: `verify_served`, the serving check.
"""

__all__: list[str] = []
