"""Property tests on small random inputs: codes and loaders never misbehave."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.codes import USCC_ALPHABET, uscc_problem, uscc_with_check_digit
from planner.dataset import load_dataset
from planner.problems import InputError
from tests.conftest import valid_tables, write_dataset

alphabet = st.sampled_from(USCC_ALPHABET)
first17 = st.tuples(
    st.text(alphabet, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(alphabet, min_size=9, max_size=9),
).map("".join)


@given(first17)
def test_generated_codes_are_valid(code17):
    """Any code with the GB 32100 shape and its computed check digit is valid (letter-first too)."""
    assert uscc_problem(uscc_with_check_digit(code17)) is None


@given(first17, st.integers(0, 17), alphabet)
def test_any_single_character_change_is_caught(code17, position, replacement):
    """The mod-31 check digit catches every single-character substitution."""
    code = uscc_with_check_digit(code17)
    changed = code[:position] + replacement + code[position + 1 :]
    if changed != code:
        assert uscc_problem(changed) is not None


TABLES = valid_tables()
CELLS = [(name, r, c) for name, rows in TABLES.items() for r in range(1, len(rows)) for c in range(len(rows[0]))]
garbage = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "nan", "NULL", "1e400", "-0", "是", "2026-02-30", "=1+1", "\x00", "9" * 40, "2026/13/1", "；；"]
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(CELLS), garbage), min_size=1, max_size=4))
def test_corrupted_cells_never_crash(corruptions):
    """Whatever lands in a cell, loading either succeeds or reports problems: never a traceback."""
    tables = valid_tables()
    for (name, row, column), value in corruptions:
        tables[name][row][column] = value
    with tempfile.TemporaryDirectory() as folder:
        try:
            load_dataset(write_dataset(Path(folder), tables))
        except InputError as error:
            assert error.errors, "InputError raised without an error"
            assert all(p.file and p.rule for p in error.problems)
