"""The benchmarks' own PostgreSQL database, dropped and created again for each run."""

from __future__ import annotations

from urllib.parse import urlsplit


def recreate_database(database_url: str) -> None:
    """Drop and create the database named in ``database_url``. Refuses any database whose name
    lacks "bench", or on another machine: a benchmark must never drop real data."""
    import psycopg

    url = urlsplit(database_url)
    name = url.path.lstrip("/")
    if "bench" not in name or url.hostname not in {"127.0.0.1", "localhost"}:
        raise SystemExit(
            f"Refusing to drop {name!r} on {url.hostname}: the bench database's name must contain 'bench'."
        )
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
