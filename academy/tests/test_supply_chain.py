"""The locked supply chain: every direct pin is in its hashed lock at the same version, every
locked package carries hashes, the two locks agree, and an accepted audit finding needs a reason."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("-r "):
            pins |= direct_pins(path.parent / line[3:].strip())
        elif found := PIN.match(line):
            pins[canonical(found[1])] = found[2]
    return pins


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) for each package of a pip-compile lock."""
    packages: dict[str, tuple[str, int]] = {}
    name = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if found := PIN.match(line):
            name = canonical(found[1])
            packages[name] = (found[2], 0)
        elif name and line.strip().startswith("--hash=sha256:"):
            version, hashes = packages[name]
            packages[name] = (version, hashes + 1)
        elif not line.startswith(" "):
            name = None
    return packages


@pytest.mark.parametrize(
    ("pins", "lock"), [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")]
)
def test_every_direct_pin_is_locked_at_its_version_with_hashes(pins, lock):
    wanted, have = direct_pins(ROOT / pins), locked(ROOT / lock)
    missing = {name: version for name, version in wanted.items() if have.get(name, ("",))[0] != version}
    assert not missing, f"{lock} is out of date for {missing}: run `make lock`."
    unhashed = [name for name, (_, hashes) in have.items() if hashes == 0]
    assert not unhashed, f"{lock} has packages without hashes: {unhashed}"


def test_the_runtime_lock_and_the_dev_lock_agree():
    runtime, dev = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-dev.lock")
    assert set(runtime) <= set(dev)
    assert {name: runtime[name][0] for name in runtime} == {name: dev[name][0] for name in runtime}


def test_no_machine_specific_address_is_in_a_lock():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text(encoding="utf-8")
        assert "--find-links" not in text and "--index-url" not in text and "file://" not in text, lock


def test_an_accepted_finding_must_say_why(tmp_path):
    from scripts.audit import accepted_ids

    accepted = tmp_path / "accepted.txt"
    accepted.write_text("# comment\n\nPYSEC-2099-1  # not used here; reviewed 2026-12-02\n", encoding="utf-8")
    assert accepted_ids(accepted) == ["PYSEC-2099-1"]
    accepted.write_text("GHSA-xxxx-yyyy-zzzz\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="say why GHSA-xxxx-yyyy-zzzz is accepted"):
        accepted_ids(accepted)
    assert accepted_ids(ROOT / "pip-audit-accepted.txt") == []  # none accepted today


def test_an_unreachable_vulnerability_service_is_said_not_passed(monkeypatch, capsys):
    from scripts import audit

    monkeypatch.setattr(audit, "vulnerability_data_reachable", lambda: False)
    assert audit.main([]) == 2
    assert "NOT audited" in capsys.readouterr().err
    assert audit.main(["--allow-unreachable"]) == 0
