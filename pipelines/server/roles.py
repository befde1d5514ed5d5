"""creditflow's roles as basic-auth roles, so that MLflow's own grants and the gate's rules agree.

| role | basic-auth grants (READ on everything is the default) | the gate lets them |
| --- | --- | --- |
| `data-scientist` | EDIT on every experiment and registered model | register, tune, set free tags and aliases |
| `reviewer` | EDIT on every registered model | approve or reject others' versions; promote, roll back |
| `risk` | EDIT on every registered model | grant exceptions on others' versions; store the policy |
| `validator` | EDIT on every experiment and registered model | rewrite `validation.*`, write its review page |
| `admin` | basic-auth admin | manage users, roles and grants; nothing in the registry |

Nobody but admins gets MANAGE from a role (MANAGE lets a user grant to others); MLflow gives the creator of an
experiment or registered model MANAGE on it, and the gate refuses every grant change by a non-admin.
"""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
from mlflow.utils.workspace_utils import DEFAULT_WORKSPACE_NAME

from features.errors import CreditflowError
from pipelines.governance.rules.permissions import (
    DATA_SCIENTIST,
    REVIEWER,
    RISK,
    ROLE_PREFIX,
    SERVICE_VALIDATOR,
    VALIDATOR,
)

GRANTS = {
    DATA_SCIENTIST: (("experiment", "EDIT"), ("registered_model", "EDIT")),
    REVIEWER: (("registered_model", "EDIT"),),
    RISK: (("registered_model", "EDIT"),),
    VALIDATOR: (("experiment", "EDIT"), ("registered_model", "EDIT")),  # the review page lives on the run
}


def create_auth_database(uri: str, admin: str, admin_password: str, validator_password: str) -> None:
    """The auth tables, the admin user, one basic-auth role per creditflow role and the service validator."""
    store = SqlAlchemyStore()
    try:
        store.init_db(uri)
        store.create_user(admin, admin_password, is_admin=True)
        made = {}
        for role, grants in GRANTS.items():
            created = store.create_role(f"{ROLE_PREFIX}{role}", DEFAULT_WORKSPACE_NAME, f"creditflow {role}")
            made[role] = created.id
            for resource_type, permission in grants:
                store.add_role_permission(created.id, resource_type, "*", permission)
        service = store.create_user(SERVICE_VALIDATOR, validator_password)
        store.assign_role_to_user(service.id, made[VALIDATOR])
    except MlflowException as exc:
        raise CreditflowError(f"auth database {uri}: {exc.message.splitlines()[0]}") from None
    finally:
        if getattr(store, "engine", None) is not None:
            store.engine.dispose()
