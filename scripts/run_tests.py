"""Run the test suite against the real services when they answer.

PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 are used when they answer; otherwise
the suite runs on SQLite with a printed notice. With CI=true a missing service fails the run.
Arguments are passed to pytest.
"""

import os
import socket
import sys


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def main() -> int:
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    env = os.environ
    missing = []
    if "DATABASE_URL" not in env:
        if answers("127.0.0.1", 5432):
            env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/academy"
        else:
            missing.append("PostgreSQL on 127.0.0.1:5432")
    if "REDIS_URL" not in env:
        if answers("127.0.0.1", 6379):
            env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
            env.setdefault("CACHE_URL", "redis://127.0.0.1:6379/14")
        else:
            missing.append("Redis on 127.0.0.1:6379")
    if missing:
        if ci:
            print(f"CI=true and these services do not answer: {', '.join(missing)}.", file=sys.stderr)
            return 1
        print(f"NOTICE: {', '.join(missing)} not answering; tests that need them use SQLite / run in-process.")
    print(f"Tests use database {env.get('DATABASE_URL', 'SQLite')} and Redis {env.get('REDIS_URL', '(none)')}.")
    os.execvp(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[1:]])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
