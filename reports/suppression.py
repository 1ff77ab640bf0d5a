"""Small-number suppression: what every report does to a table of counts of people before showing it.

``suppress(counts)`` takes one row of counts (answer -> number of learners, in display order) and
returns a ``SuppressedTable``: what may be shown. The rule (written for readers in
``docs/privacy.md``; ``threshold`` is 5):

1. **Small counts.** Every count from 1 to 4 is hidden.
2. **No working it out by subtraction.** The total is shown exactly: it cannot be kept secret,
   because every question is asked of the same learners, so any table with nothing hidden adds up
   to it. So when anything is hidden, more is hidden until the hidden counts cannot be worked out
   from the total and the counts shown: while fewer than two counts are hidden, or the hidden
   counts are all equal (1 and 1, 4 and 4), the smallest count still shown is hidden too, together
   with every other shown count equal to it (a tie would tell which one was picked).
3. **One mark for every hidden count.** Every hidden count is shown the same way, "fewer than 5 or
   hidden" (``HIDDEN``), with the table's ``note`` explaining it. Marking the small ones
   differently from the ones hidden to protect them would tell a reader that a hidden count is
   at least 5, and with the total that can pin a small count exactly (1 beside 5 makes 6, and
   only 1 + 5 makes 6 when the second is at least 5).
4. **Too few to show.** When the total is from 1 to 4, or hiding every other count still leaves
   the hidden ones all equal, the whole table is withheld: every cell is hidden, zeros included
   (``withheld``), and a total from 1 to 4 is shown as "fewer than 5".
5. **Zero** is shown as 0 otherwise: it describes nobody. (Nobody who reads a report knows which
   learners answered, since answering is optional and private, so a 0 does not reveal what a
   particular person said.)

``reports/tests/test_suppression.py`` checks, for every table of two counts from 0 to 11, three
from 0 to 8 and four from 0 to 5, and for random larger ones (Hypothesis), that no hidden count
can be worked out by someone who knows this rule, the total and every count shown: each hidden
count has at least two values consistent with everything shown (the candidate tables must be
shown exactly the same way).

Reports must not offer populations that differ by one learner (for example any date range):
comparing two such tables would give that learner's answers whatever is hidden. See
``reports.selectors_reach``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

THRESHOLD = 5


@dataclass(frozen=True)
class SuppressedCell:
    """One count as it may be shown."""

    key: str
    value: int | None  # the count when shown; None when hidden
    display: str  # "12", "0", or "fewer than 5 or hidden"
    suppressed: bool


@dataclass(frozen=True)
class SuppressedTable:
    """A row of counts after suppression, in the order given, with its total."""

    cells: tuple[SuppressedCell, ...]
    total: int | None  # None when the total itself is below the threshold
    total_display: str
    withheld: bool
    threshold: int

    def __iter__(self) -> Iterator[SuppressedCell]:
        return iter(self.cells)

    def __len__(self) -> int:
        return len(self.cells)

    def __getitem__(self, key: str) -> SuppressedCell:
        for cell in self.cells:
            if cell.key == key:
                return cell
        raise KeyError(key)

    @property
    def any_suppressed(self) -> bool:
        return any(cell.suppressed for cell in self.cells)

    @property
    def displays(self) -> dict[str, str]:
        return {cell.key: cell.display for cell in self.cells}

    @property
    def note(self) -> str:
        """The explanation to show beneath the table when something is hidden, else ""."""
        return hidden_note(self.threshold) if self.any_suppressed else ""


def fewer_than(threshold: int) -> str:
    return _("fewer than %(threshold)d") % {"threshold": threshold}


def hidden_mark(threshold: int) -> str:
    """What a hidden count shows (the same for every hidden count)."""
    return _("fewer than %(threshold)d or hidden") % {"threshold": threshold}


def hidden_note(threshold: int) -> str:
    """The sentence a table with hidden counts shows beneath it."""
    return _(
        "To protect privacy, counts from 1 to %(small)d are not shown, and neither are some other "
        "counts, so that a small number cannot be worked out from the total."
    ) % {"small": threshold - 1}


def suppress(counts: Mapping[str, int], *, threshold: int = THRESHOLD) -> SuppressedTable:
    """``counts`` (key -> number of people, in display order) as it may be shown: see the module's
    docstring for the rule. Negative counts are a programming error (``ValueError``)."""
    if threshold < 2:
        raise ValueError("The threshold must be at least 2.")
    keys = list(counts)
    values = [int(counts[key]) for key in keys]
    if any(value < 0 for value in values):
        raise ValueError("Counts cannot be negative.")
    total = sum(values)
    withheld = 0 < total < threshold
    hidden = [i for i, value in enumerate(values) if 0 < value < threshold]
    if hidden and not withheld:
        # Shown counts that may be hidden to protect the small ones: smallest first, then in order.
        candidates = sorted((i for i, value in enumerate(values) if value >= threshold), key=lambda i: (values[i], i))
        while len(hidden) < 2 or len({values[i] for i in hidden}) == 1:
            if not candidates:
                withheld = True
                break
            smallest = values[candidates[0]]
            while candidates and values[candidates[0]] == smallest:  # equal counts go together
                hidden.append(candidates.pop(0))
    hidden_set = set(range(len(values))) if withheld else set(hidden)
    mark = hidden_mark(threshold)
    cells = [
        SuppressedCell(key, None, mark, True) if i in hidden_set else SuppressedCell(key, value, str(value), False)
        for i, (key, value) in enumerate(zip(keys, values, strict=True))
    ]
    if 0 < total < threshold:
        shown_total, total_display = None, fewer_than(threshold)
    else:
        shown_total, total_display = total, str(total)
    return SuppressedTable(
        cells=tuple(cells),
        total=shown_total,
        total_display=total_display,
        withheld=withheld,
        threshold=threshold,
    )
