"""Audit the locked Python dependencies for known vulnerabilities (``make audit``; CI runs it).

Runs pip-audit against ``requirements-dev.lock`` (every package, pinned and hashed) without
installing anything. A finding fails the run (exit 1), unless its id is listed in
``pip-audit-accepted.txt`` with the reason it was reviewed and accepted (docs/operations.md,
"Keeping dependencies current").

pip-audit asks PyPI's JSON API for each pinned version's known vulnerabilities. Where that API does
not answer (a registry mirror that serves packages but no vulnerability data, or no network), the
audit cannot be done: this says so plainly and exits 2, or 0 with ``--allow-unreachable`` (what CI
uses on a machine whose only registry is such a mirror; the notice is printed all the same).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements-dev.lock"
ACCEPTED = ROOT / "pip-audit-accepted.txt"
# A pinned version's page in PyPI's JSON API: what pip-audit reads for every package.
PROBE = "https://pypi.org/pypi/pip/24.0/json"


def accepted_ids(path: Path = ACCEPTED) -> list[str]:
    """The vulnerability ids in ``path``: one per line, then ``#`` and why it was accepted. A line
    without a reason is refused: an accepted finding must say who reviewed it and why."""
    ids = []
    if not path.exists():
        return ids
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        vuln, _, reason = line.partition("#")
        if not reason.strip():
            raise SystemExit(f"{path.name}, line {number}: say why {vuln.strip()} is accepted, after a '#'.")
        ids.append(vuln.strip())
    return ids


def vulnerability_data_reachable(url: str = PROBE, timeout: float = 10) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (a fixed https URL)
            return response.status == 200 and "vulnerabilities" in json.load(response)
    except (urllib.error.URLError, TimeoutError, ValueError, OSError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allow-unreachable", action="store_true", help="Exit 0 when no vulnerability data answers.")
    args = parser.parse_args(argv)
    ignores = [flag for vuln in accepted_ids() for flag in ("--ignore-vuln", vuln)]
    if not vulnerability_data_reachable():
        print(
            f"NOTICE: PyPI's vulnerability data ({PROBE}) does not answer from this machine, so the "
            "locked dependencies were NOT audited. Run `make audit` where PyPI answers.",
            file=sys.stderr,
        )
        return 0 if args.allow_unreachable else 2
    command = [
        str(Path(sys.executable).parent / "pip-audit"),
        "--requirement",
        str(LOCK),
        "--require-hashes",
        "--disable-pip",
        "--strict",  # a package that could not be audited fails the run too
        "--progress-spinner",
        "off",
        *ignores,
    ]
    print("Auditing", LOCK.name, "with", " ".join(command[1:]), flush=True)
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
