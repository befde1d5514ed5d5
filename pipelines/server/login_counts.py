"""Failed-login counts in the governance database (table `login_failures`), shared by every worker of the server:
an attacker spreading guesses over workers meets the same counts. The rules are `pipelines.server.throttle`'s."""

from __future__ import annotations

from typing import Callable

from pipelines.server.store import GovernanceStore
from pipelines.server.throttle import Count


class LoginCounts:
    def __init__(self, store: GovernanceStore):
        self.store = store

    def read(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Count]:
        """The counts of the `(kind, key)` pairs that have one: one primary-key read per login."""
        condition = " OR ".join(["(kind = %s AND key = %s)"] * len(pairs))
        query = f"SELECT kind, key, failures, window_start, locked_until FROM login_failures WHERE {condition}"
        with self.store.connection() as conn, conn.cursor() as cur:
            cur.execute(query, [value for pair in pairs for value in pair])
            return {(kind, key): Count(*rest) for kind, key, *rest in cur.fetchall()}

    def count(self, kind: str, key: str, update: Callable[[Count | None], Count]) -> tuple[Count | None, Count]:
        """Apply `update` to the count of `(kind, key)` under its row lock (workers counting failures of the same key
        at once are serialised, none is lost); the count before (None: there was none) and after."""
        with self.store.connection() as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO login_failures VALUES (%s, %s, 0, 0, 0) ON CONFLICT DO NOTHING RETURNING failures",
                (kind, key),
            )
            created = cur.fetchone() is not None
            cur.execute(
                "SELECT failures, window_start, locked_until FROM login_failures WHERE kind = %s AND key = %s "
                "FOR UPDATE",
                (kind, key),
            )
            before = None if created else Count(*cur.fetchone())
            after = update(before)
            cur.execute(
                "UPDATE login_failures SET failures = %s, window_start = %s, locked_until = %s "
                "WHERE kind = %s AND key = %s",
                (after.failures, after.window_start, after.locked_until, kind, key),
            )
            conn.commit()
        return before, after

    def forget(self, kind: str, key: str) -> None:
        with self.store.connection() as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM login_failures WHERE kind = %s AND key = %s", (kind, key))
            conn.commit()

    def drop_stale(self, before: float) -> None:
        """Forget counts whose window and lockout both ended before `before` (epoch s): the table stays small however
        many names and addresses an attacker tries."""
        with self.store.connection() as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM login_failures WHERE window_start < %s AND locked_until < %s", (before, before))
            conn.commit()
