"""The governance database of a team server: the append-only, hash-chained audit log and the governed policy.

It is a PostgreSQL database of its own, owned by a role nobody logs in as; the server's role may only SELECT
and INSERT (`server init` grants no more), and triggers refuse UPDATE, DELETE and TRUNCATE even to the owner.
Appends are serialised by a transaction-scoped advisory lock, so the chain has one order across every worker
and machine. Registry changes of one model are serialised by a session advisory lock (`model_lock`).
"""

from __future__ import annotations

import json
import threading
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Iterator

import psycopg2
import psycopg2.extras
from psycopg2.pool import ThreadedConnectionPool

from pipelines.core.audit_rows import as_record
from pipelines.core.clock import now_iso
from pipelines.core.records import AuditRecord
from pipelines.server.audit_chain import chain_problems, sealed_row

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq BIGINT PRIMARY KEY,
    time TEXT NOT NULL,
    username TEXT NOT NULL,
    route TEXT NOT NULL,
    action TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    target TEXT NOT NULL DEFAULT '',
    payload_digest TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}',
    prev TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS audit_log_model ON audit_log (model, seq);
CREATE TABLE IF NOT EXISTS policies (
    seq BIGSERIAL PRIMARY KEY,
    time TEXT NOT NULL,
    username TEXT NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS frozen (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS login_failures (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    failures INTEGER NOT NULL,
    window_start DOUBLE PRECISION NOT NULL,
    locked_until DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE OR REPLACE FUNCTION creditflow_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'creditflow: table % is append-only', TG_TABLE_NAME;
END $$;
CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION creditflow_append_only();
CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION creditflow_append_only();
CREATE OR REPLACE TRIGGER policies_append_only BEFORE UPDATE OR DELETE ON policies
    FOR EACH ROW EXECUTE FUNCTION creditflow_append_only();
CREATE OR REPLACE TRIGGER policies_no_truncate BEFORE TRUNCATE ON policies
    FOR EACH STATEMENT EXECUTE FUNCTION creditflow_append_only();
CREATE OR REPLACE TRIGGER frozen_append_only BEFORE UPDATE OR DELETE ON frozen
    FOR EACH ROW EXECUTE FUNCTION creditflow_append_only();
CREATE OR REPLACE TRIGGER frozen_no_truncate BEFORE TRUNCATE ON frozen
    FOR EACH STATEMENT EXECUTE FUNCTION creditflow_append_only();
"""
TABLES = ("audit_log", "policies", "frozen")
COUNTERS = ("login_failures",)  # counts, not evidence: the server updates and deletes their rows
SEQUENCES = ("policies_seq_seq",)
_CHAIN_LOCK = 7_418_001  # advisory lock key of the audit chain


class _Pool:
    """Pooled connections that answer (after a PostgreSQL restart a pool holds dead ones), at most `size` lent."""

    def __init__(self, dsn: str, size: int):
        self.pool = ThreadedConnectionPool(1, size, dsn)
        self.slots = threading.BoundedSemaphore(size)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        with self.slots:
            conn = self._live()
            try:
                yield conn
            finally:
                if conn.closed:
                    self.pool.putconn(conn, close=True)
                else:
                    conn.rollback()
                    self.pool.putconn(conn)

    def _live(self) -> Any:
        for _ in range(self.pool.maxconn):
            conn = self.pool.getconn()
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                conn.rollback()
                return conn
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                self.pool.putconn(conn, close=True)
        return self.pool.getconn()


class GovernanceStore:
    """Connections to the governance database, shared by the request threads of one server process. Model locks
    hold a connection for a whole request, so they have their own pool: a request holding a lock can always get
    a connection to append its audit row."""

    def __init__(self, dsn: str, *, max_connections: int = 12):
        self._statements = _Pool(dsn, max_connections)
        self._locks = _Pool(dsn, max_connections)

    def connection(self) -> AbstractContextManager[Any]:
        return self._statements.connection()

    @contextmanager
    def model_lock(self, model: str) -> Iterator[None]:
        """Serialise every registry change of `model` across threads, workers and machines."""
        key = f"creditflow:{model}"
        with self._locks.connection() as conn:
            conn.autocommit = True
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
                yield
            finally:
                if not conn.closed:  # a dead connection has released its lock with its session
                    with conn.cursor() as cur:
                        cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
                    conn.autocommit = False

    def close(self) -> None:
        self._statements.pool.closeall()
        self._locks.pool.closeall()

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Add one row at the end of the chain (sealed as a record of pipelines/governance/rules/chain.py, timed once
        the chain's lock is held, so times never go backwards along it); return it as stored."""
        fields = {"model": "", "version": "", "target": "", "reason": "", **entry}
        fields["detail"] = json.dumps(fields.get("detail") or {}, sort_keys=True)
        with self.connection() as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_CHAIN_LOCK,))
            cur.execute("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1")
            last = cur.fetchone()
            row = sealed_row({**fields, "time": now_iso()}, dict(last) if last else None)
            columns = ", ".join(row)
            cur.execute(
                f"INSERT INTO audit_log ({columns}) VALUES ({', '.join(['%s'] * len(row))})", tuple(row.values())
            )
            conn.commit()
        return row

    def rows(self, model: str | None = None) -> list[dict[str, Any]]:
        """Audit rows in chain order, of one model or all."""
        query = "SELECT * FROM audit_log" + (" WHERE model = %s" if model is not None else "") + " ORDER BY seq"
        with self.connection() as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(query, (model,) if model is not None else None)
            return [dict(r) for r in cur.fetchall()]

    def verify(self) -> list[str]:
        return chain_problems(self.rows())

    def trail(self, model: str) -> list[AuditRecord]:
        """The model's rows the promotion rules read (registrations, reviews, moves), as audit records."""
        return [record for row in self.rows(model) if (record := as_record(row)) is not None]

    def freeze(self, kind: str, key: str, reason: str) -> None:
        """Record that the files of a logged model (`model`) or a run (`run`) may no longer change. Checking a
        key in this small table costs one indexed lookup per upload, not a registry search."""
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO frozen (kind, id, reason) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", (kind, key, reason)
            )
            conn.commit()

    def frozen(self, kind: str, key: str) -> str | None:
        """Why the files of `key` are frozen, or None."""
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT reason FROM frozen WHERE kind = %s AND id = %s", (kind, key))
            found = cur.fetchone()
        return found[0] if found else None

    def policy(self, name: str) -> dict[str, Any] | None:
        """The latest stored version of policy `name` (document, digest, who, when), or None."""
        with self.connection() as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT * FROM policies WHERE name = %s ORDER BY seq DESC LIMIT 1", (name,))
            found = cur.fetchone()
        return None if found is None else {**dict(found), "document": json.loads(found["document"])}

    def policy_versions(self, name: str) -> list[dict[str, Any]]:
        """Every stored version of policy `name`, oldest first."""
        with self.connection() as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT * FROM policies WHERE name = %s ORDER BY seq", (name,))
            rows = cur.fetchall()
        return [{**dict(row), "document": json.loads(row["document"])} for row in rows]

    def policy_names(self) -> list[str]:
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT DISTINCT name FROM policies ORDER BY name")
            return [row[0] for row in cur.fetchall()]

    def put_policy(self, name: str, document: dict[str, Any], digest: str, username: str) -> None:
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO policies (time, username, name, document, digest) VALUES (%s, %s, %s, %s, %s)",
                (now_iso(), username, name, json.dumps(document, sort_keys=True), digest),
            )
            conn.commit()


def create_schema(conn: Any, owner: str, writer: str) -> None:
    """Tables, triggers and grants in an empty governance database (run by `server init` as a superuser)."""
    with conn.cursor() as cur:
        cur.execute(SCHEMA)
        for table in TABLES:
            cur.execute(f'ALTER TABLE {table} OWNER TO "{owner}"')
            cur.execute(f'REVOKE ALL ON {table} FROM PUBLIC, "{writer}"')
            cur.execute(f'GRANT SELECT, INSERT ON {table} TO "{writer}"')
        for table in COUNTERS:
            cur.execute(f'ALTER TABLE {table} OWNER TO "{owner}"')
            cur.execute(f'REVOKE ALL ON {table} FROM PUBLIC, "{writer}"')
            cur.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO "{writer}"')
        for sequence in SEQUENCES:
            cur.execute(f'ALTER SEQUENCE {sequence} OWNER TO "{owner}"')
            cur.execute(f'GRANT USAGE ON SEQUENCE {sequence} TO "{writer}"')
    conn.commit()
