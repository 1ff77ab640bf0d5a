"""Small-number suppression: counts 1 to 4 hidden, and nothing hidden can be worked out by
subtraction from the total and the counts shown, by someone who knows the rule."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.suppression import suppress

HIDDEN = "fewer than 5 or hidden"


def keyed(values):
    return {f"answer{i}": v for i, v in enumerate(values)}


def shown(values):
    table = suppress(keyed(values))
    return tuple(cell.display for cell in table), table.total_display


def compositions(total, parts):
    if parts == 0:
        return
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in compositions(total - first, parts - 1):
            yield (first, *rest)


def values_a_reader_could_infer(values):
    """For each hidden cell, every value consistent with what is shown: the counts shown, the
    total (exact, or 1 to 4 when shown as "fewer than 5") and the rule itself (the candidate must
    be shown exactly the same way)."""
    display = shown(values)
    hidden = [i for i, text in enumerate(display[0]) if text == HIDDEN]
    totals = range(1, 5) if display[1] == "fewer than 5" else [sum(values)]
    possible = {i: set() for i in hidden}
    for total in totals:
        rest = total - sum(v for i, v in enumerate(values) if i not in hidden)
        if rest < 0:
            continue
        for guess in compositions(rest, len(hidden)):
            candidate = list(values)
            for i, v in zip(hidden, guess, strict=True):
                candidate[i] = v
            if shown(candidate) == display:
                for i, v in zip(hidden, guess, strict=True):
                    possible[i].add(v)
    return possible


def assert_nothing_hidden_can_be_worked_out(values):
    for i, possible in values_a_reader_could_infer(values).items():
        assert len(possible) >= 2, f"{values}: cell {i} can only be {possible} given {shown(values)}"
        assert values[i] in possible


def test_large_counts_and_zeros_are_shown():
    table = suppress({"yes": 12, "no": 7, "prefer_not_to_say": 0})
    assert table.displays == {"yes": "12", "no": "7", "prefer_not_to_say": "0"}
    assert table.total == 19 and table.total_display == "19"
    assert not table.any_suppressed and table.note == ""
    assert [cell.value for cell in table] == [12, 7, 0]


def test_a_small_count_is_hidden_with_the_next_smallest():
    table = suppress({"a": 3, "b": 40, "c": 9, "d": 0})
    assert table.displays == {"a": HIDDEN, "b": "40", "c": HIDDEN, "d": "0"}
    assert table["a"].value is None and table["a"].suppressed
    assert table.total_display == "52"  # exact: a + c = 12 could be 1 + 11, ..., 4 + 8
    assert "cannot be worked out" in table.note


def test_the_subtraction_case_one_beside_exactly_five():
    # 1 and 5 hidden with a total of 106 and 100 shown leaves 6. Were the 5 marked differently
    # ("hidden" as opposed to "fewer than 5"), a reader would know it is at least 5, so the small
    # one is 1. One mark for both: 6 could be 1 + 5, 2 + 4, 3 + 3 ...
    table = suppress({"a": 1, "b": 5, "c": 100})
    assert table.displays == {"a": HIDDEN, "b": HIDDEN, "c": "100"}
    assert_nothing_hidden_can_be_worked_out([1, 5, 100])


def test_equal_small_counts_hide_the_next_smallest_too():
    # 1 and 1 hidden with a total of 52 and 50 shown: only 1 + 1 makes 2.
    assert suppress({"a": 1, "b": 1, "c": 50, "d": 60}).displays == {"a": HIDDEN, "b": HIDDEN, "c": HIDDEN, "d": "60"}
    # Shown counts equal to the one hidden go with it: otherwise which of the two was hidden tells.
    assert suppress({"a": 5, "b": 5, "c": 4}).displays == {"a": HIDDEN, "b": HIDDEN, "c": HIDDEN}


def test_a_total_below_five_withholds_everything():
    table = suppress({"a": 2, "b": 0, "c": 1})
    assert table.withheld and table.total is None and table.total_display == "fewer than 5"
    assert all(cell.suppressed for cell in table)


def test_a_table_that_cannot_be_made_safe_is_withheld_zeros_included():
    table = suppress({"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 0})  # 5 people, all different
    assert table.withheld and table.total_display == "5"
    assert {cell.display for cell in table} == {HIDDEN}


def test_nobody_and_empty():
    assert suppress({"a": 0, "b": 0}).displays == {"a": "0", "b": "0"}
    assert suppress({}).total_display == "0"


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        suppress({"a": -1})
    with pytest.raises(ValueError):
        suppress({"a": 3}, threshold=1)


def test_every_small_table_is_safe():
    """Exhaustive: every row of up to two counts from 0 to 11, three from 0 to 8, four from 0 to 5."""
    for size, top in ((1, 12), (2, 12), (3, 9), (4, 6)):
        for values in itertools.product(range(top), repeat=size):
            assert_nothing_hidden_can_be_worked_out(list(values))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), min_size=2, max_size=6))
def test_no_hidden_count_can_be_worked_out_from_the_rest(values):
    table = suppress(keyed(values))
    for cell, value in zip(table, values, strict=True):
        if 0 < value < 5:
            assert cell.suppressed  # every small count is hidden
        if not cell.suppressed:
            assert cell.value == value and cell.display == str(value)
    if sum(1 for cell in table if cell.suppressed) <= 3:  # enumerating more is too slow for a test
        assert_nothing_hidden_can_be_worked_out(values)
