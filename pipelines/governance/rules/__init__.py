"""The governance rules as pure functions: records in, problems out (no MLflow, no I/O).

Nothing is re-exported here, so that the chain and identity rules stay free of the policy's imports (pandas,
pydantic). Import from the module:

- `chain`: `seal`, `verify_chain`, `Link` (the hash chain of the audit trail);
- `identity`: `person_key`, `same_person`, `name_problem` (names compared as people);
- `promotion`: `unmet_conditions`, `champion_problems`, `review_problems`, `evidence_digest`,
  `approval_fingerprint`;
- `exceptions`: exception requests, their expiry and their recorded terms;
- `permissions`: `Actor`, the roles and what each may change on a team server.
"""

__all__: list[str] = []
