"""The independent credential verifier (``verifier/verify.mjs``, Digital Bazaar's libraries on Node.js).

``verify_credential(credential, base_url=...)`` runs it and returns its JSON result:
``{"verified": bool, "checks": [{"name", "passed", "detail"}], "errors": [...], "status": {...} | None,
"issuer": ..., "documents": [...]}``. With ``base_url`` (e.g. pytest-django's ``live_server.url``) the
issuer's ``did:web`` DID document and the status list are fetched from that server; nothing else
is fetched from anywhere.

``require_verifier()`` skips a test (locally) or fails it (CI, ``CI=true``) when Node.js or
``verifier/node_modules`` is missing, with the command that installs them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

VERIFIER_DIR = Path(__file__).resolve().parents[2] / "verifier"
SCRIPT = VERIFIER_DIR / "verify.mjs"
INSTALL_HINT = "run `npm ci --no-audit --no-fund` in verifier/ (Node.js 20 or later is needed)"
TIMEOUT_SECONDS = 60


class VerifierError(RuntimeError):
    """The verifier could not run, or crashed (exit status 2)."""


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def node_path() -> str | None:
    return shutil.which("node")


def missing_reason() -> str | None:
    """Why the verifier cannot run here, or None when it can."""
    if node_path() is None:
        return f"the independent verifier needs Node.js (`node` is not on PATH); {INSTALL_HINT}"
    if not (VERIFIER_DIR / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        return f"the independent verifier's packages are not installed: {INSTALL_HINT}"
    return None


def require_verifier() -> None:
    """Skip (locally) or fail (CI) unless Node.js and verifier/node_modules are there."""
    reason = missing_reason()
    if reason is None:
        return
    if _ci():
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def run_verifier(args: list[str], *, stdin: str | None = None) -> subprocess.CompletedProcess:
    reason = missing_reason()
    if reason is not None:
        raise VerifierError(reason)
    return subprocess.run(  # noqa: S603 - fixed program, arguments from the tests
        [node_path(), str(SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=VERIFIER_DIR,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def verify_credential(
    credential: dict,
    *,
    base_url: str | None = None,
    contexts: dict[str, Path] | None = None,
    now: str | None = None,
    any_issuer: bool = False,
) -> dict:
    """Verify ``credential`` with the independent verifier and return its parsed result.

    ``contexts`` maps extra context URLs to pinned files (for URLs no npm package bundles);
    ``now`` (ISO 8601) sets the time validity dates are checked against; ``any_issuer`` skips
    only the check that the issuer controls the key (for published vectors with example issuers).
    Raises VerifierError on a usage error or a crash (exit status 2).
    """
    args = ["-"]
    if base_url:
        args += ["--base-url", base_url]
    for url, path in (contexts or {}).items():
        args += ["--context", f"{url}={path}"]
    if now:
        args += ["--now", now]
    if any_issuer:
        args.append("--any-issuer")
    completed = run_verifier(args, stdin=json.dumps(credential))
    try:
        result = json.loads(completed.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as error:
        raise VerifierError(
            f"the verifier printed no JSON result (exit {completed.returncode}): "
            f"{completed.stdout[-2000:]} {completed.stderr[-2000:]}"
        ) from error
    if completed.returncode == 2:
        raise VerifierError(f"the verifier failed: {result.get('errors')}")
    if completed.returncode != (0 if result["verified"] else 1):
        raise VerifierError(f"exit status {completed.returncode} disagrees with {result}")
    return result


@cache
def bundled_context(url: str) -> dict:
    """A context exactly as the verifier's npm packages bundle it (for a test's own signer)."""
    completed = run_verifier(["--print-context", url])
    if completed.returncode != 0:
        raise VerifierError(f"no bundled context {url}: {completed.stderr.strip()}")
    return json.loads(completed.stdout)
