"""Named migrations of the store, applied when it is opened for writing (`store.connect`).

Each migration is a function of a connection, listed once in MIGRATIONS, in order. One that
the store's `migrations` table (name, applied_at) does not list yet runs inside its own
transaction together with the row recording it, so it is applied once, whole or not at all.
A store of any earlier release (no `migrations` table: commit a31ef3a wrote a
`schema_version` it never read) is brought up to date this way; the first migrations create
tables with IF NOT EXISTS, so the tables such a store already has are kept as they are.

After them, `rebuild_facts` keeps the monthly fact tables in step with the component
declarations (store.components): when their fingerprint differs from the one in `meta`, the
fact tables are made again from the declarations and recomputed from `dossiers`.

Add a migration by appending a function to MIGRATIONS; never rename or reorder one that
has shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import duckdb

from store import components

FINGERPRINT_KEY = "components_fingerprint"
TABLE = "CREATE TABLE IF NOT EXISTS migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"


def _base_schema(con) -> None:
    """The tables of store/db.py SCHEMA (those of the base release and later ones)."""
    from store import db as store

    con.execute(store.SCHEMA)


def _accounts(con) -> None:
    """Accounts, sessions, audit log and (new since a31ef3a) the login throttle."""
    from store.accounts import SCHEMA

    con.execute(SCHEMA)


def _procedures_added(con) -> None:
    """Procedures an upload added (a file never renames one); undoing that upload removes them
    when no dossier names them."""
    con.execute("""CREATE TABLE IF NOT EXISTS procedures_added (
        procedure_code VARCHAR PRIMARY KEY,
        batch_id INTEGER NOT NULL)""")


def _drop_schema_version(con) -> None:
    """`meta.schema_version` was written and never read: the `migrations` table replaces it."""
    con.execute("DELETE FROM meta WHERE key = 'schema_version'")


def _service(con) -> None:
    """The always-on server's tables: API tokens, SQL-source schedules, job runs, inbox files."""
    from store import api_tokens, jobs

    con.execute(api_tokens.SCHEMA)
    con.execute(jobs.SCHEMA)


def _user_email(con) -> None:
    """An e-mail address per account (reports/delivery.py sends reminders and reports to it)."""
    con.execute("ALTER TABLE users ADD COLUMN IF NOT EXISTS email VARCHAR")


def _mail(con) -> None:
    """The outbox (every message generated, its key, attempts and result) and the monthly
    report's schedule per unit (reports/delivery.py). The unique key is what makes a message
    generated twice (a restart, two runs) one row, hence one send."""
    con.execute("""CREATE SEQUENCE IF NOT EXISTS mail_seq START 1;
        CREATE TABLE IF NOT EXISTS mail_outbox (
            id BIGINT PRIMARY KEY,
            kind VARCHAR NOT NULL,           -- report | reminder | manual | test
            unit_code VARCHAR NOT NULL,      -- the unit the message is about
            subject_key VARCHAR NOT NULL,    -- the period, or the deadline and its due date
            recipient VARCHAR NOT NULL,      -- e-mail address
            username VARCHAR,                -- the account it goes to (NULL: an address given by hand)
            subject VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            period VARCHAR,                  -- a report's period (its files are made when sent)
            created_at TIMESTAMP NOT NULL,
            status VARCHAR NOT NULL,         -- pending | sent | failed (gave up)
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try_at TIMESTAMP NOT NULL,
            sent_at TIMESTAMP,
            last_error VARCHAR,              -- Vietnamese
            UNIQUE (kind, unit_code, subject_key, recipient));
        CREATE TABLE IF NOT EXISTS mail_schedule (
            unit_code VARCHAR PRIMARY KEY,
            report_day INTEGER,              -- the monthly report is sent from this day of the month
            remind_days INTEGER NOT NULL,    -- reminders this many days before each deadline
            roles VARCHAR[] NOT NULL,        -- who receives them (store.accounts.ROLES keys)
            active BOOLEAN NOT NULL)""")


def _seal_mail_password(con) -> None:
    """The SMTP password saved before it was sealed is sealed with the store's key file
    (store/sealed.py): from now on a backup of the store holds no usable password."""
    from store import sealed

    rows = con.execute("SELECT value FROM meta WHERE key = 'mail.password'").fetchall()
    if rows and rows[0][0] and not sealed.is_sealed(rows[0][0]):
        con.execute("UPDATE meta SET value = ? WHERE key = 'mail.password'", [sealed.seal(con, rows[0][0])])


# THE list, in the order they apply. Names are what the `migrations` table records.
MIGRATIONS: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], None]]] = [
    ("0001_base_schema", _base_schema),
    ("0002_accounts", _accounts),
    ("0003_procedures_added", _procedures_added),
    ("0004_drop_schema_version", _drop_schema_version),
    ("0005_service", _service),
    ("0006_user_email", _user_email),
    ("0007_mail", _mail),
    ("0008_seal_mail_password", _seal_mail_password),
]


def applied(con) -> list[str]:
    """Names of the migrations this store has applied, in the order they were."""
    if not _has_table(con, "migrations"):
        return []
    return [r[0] for r in con.execute("SELECT name FROM migrations ORDER BY applied_at, name").fetchall()]


def pending(con) -> list[str]:
    """Migrations not applied yet, and "rebuild_facts" when the facts lag the components."""
    done = set(applied(con))
    todo = [name for name, _ in MIGRATIONS if name not in done]
    if todo or _stored_fingerprint(con) != components.fingerprint():
        todo.append("rebuild_facts")
    return todo


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every pending migration, each in its own transaction, then rebuild the facts if
    the component declarations changed. Returns what was applied."""
    from store import db as store

    done_now = []
    with store.WRITE_LOCK:
        con.execute(TABLE)
        done = set(applied(con))
        for name, step in MIGRATIONS:
            if name in done:
                continue
            _in_transaction(con, lambda step=step, name=name: (step(con), _record(con, name)))
            done_now.append(name)
        if _stored_fingerprint(con) != components.fingerprint():
            _in_transaction(con, lambda: rebuild_facts(con))
            done_now.append("rebuild_facts")
    return done_now


def rebuild_facts(con) -> None:
    """Make the fact tables and the overdue candidates again from the component declarations
    and recompute every (unit, month) cell from `dossiers` (a store of an earlier release, or
    components changed)."""
    from store.facts import refresh_facts

    for table in components.FACT_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(components.fact_table_sql(table))
    con.execute(f"DROP TABLE IF EXISTS {components.OVERDUE_CANDIDATES}")
    con.execute(components.overdue_candidates_table_sql())
    refresh_facts(con, everything=True)
    fingerprint = components.fingerprint()
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [FINGERPRINT_KEY, fingerprint])
    _record(con, f"rebuild_facts {fingerprint}")


def _record(con, name: str) -> None:
    con.execute("INSERT OR REPLACE INTO migrations VALUES (?, ?)", [name, datetime.now()])


def _in_transaction(con, work: Callable[[], object]) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        work()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _stored_fingerprint(con) -> str | None:
    if not _has_table(con, "meta"):
        return None
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY]).fetchall()
    return rows[0][0] if rows else None


def _has_table(con, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ?", [name]).fetchall()[0][0])
