"""The team server: MLflow's basic-auth app wrapped by creditflow's governance gate, on PostgreSQL.

Nothing is re-exported here (Flask, MLflow's server and psycopg2 load only in the server). Import from the
module: `app` (`create_app`, the `mlflow.app` entry point), `setup` (`init_server`, `ServerConfig`,
`server_command`), `gate`, `api`, `store` (the audit table and policy store).
"""

__all__: list[str] = []
