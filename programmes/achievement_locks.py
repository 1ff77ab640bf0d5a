"""Which enrolments' achievements are locked, and why.

An issued certificate's record must stay true: the achievements behind it cannot be removed until
staff have revoked it. Certificates sit above programmes in the layers, so programmes cannot ask
them directly: the certificates app registers a lookup here when it starts
(``certificates/receivers.py``, imported from its ``AppConfig.ready``), as it does for the
certificate preview (``programmes/certificate_preview.py``).
"""

from collections.abc import Callable, Iterable

# Each lookup takes enrolment ids and returns the ids of those whose achievements are locked.
_lookups: dict[str, Callable[[list[int]], set[int]]] = {}


def lock_register(name: str, lookup: Callable[[list[int]], set[int]]) -> None:
    """Register ``lookup(enrolment_ids) -> locked ids`` under ``name`` (registering again replaces it).
    It must run a fixed number of queries, whatever the number of ids."""
    _lookups[name] = lookup


def locked_enrolment_ids(enrolment_ids: Iterable[int]) -> set[int]:
    """The enrolments among ``enrolment_ids`` whose achievements may not be removed: one query per
    registered lookup, whatever the number of enrolments."""
    ids = sorted(set(enrolment_ids))
    if not ids:
        return set()
    locked: set[int] = set()
    for lookup in _lookups.values():
        locked |= set(lookup(ids))
    return locked


def lock_unregister(name: str) -> None:
    """Remove the lookup registered under ``name`` (nothing happens if there is none)."""
    _lookups.pop(name, None)
