"""Disclosure control: no published figure and no figure a reader can solve for from the
published cells and totals identifies fewer than the threshold."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from machi.opendata.standard.disclosure import SuppressedTable, render, suppress


def feasible_ranges(table: list[list[int]], published: SuppressedTable) -> dict:
    """What an attacker learns: for each suppressed figure of the bordered table, its
    minimum and maximum over all non-negative tables that agree with every published
    cell and total (two linear programs per figure)."""
    m, n = len(table), len(table[0])
    shown = [[*row, published.row_totals[i]] for i, row in enumerate(published.cells)]
    shown.append([*published.column_totals, published.total])
    unknown = [(i, j) for i in range(m + 1) for j in range(n + 1) if shown[i][j] is None]
    index = {cell: k for k, cell in enumerate(unknown)}
    equations, rhs = [], []

    def line(cells: list[tuple[int, int]], total: tuple[int, int]) -> None:
        row, constant = [0.0] * len(unknown), 0.0
        for cell, sign in [*((c, 1.0) for c in cells), (total, -1.0)]:
            if cell in index:
                row[index[cell]] += sign
            else:
                constant -= sign * shown[cell[0]][cell[1]]
        equations.append(row)
        rhs.append(constant)

    for i in range(m + 1):
        line([(i, j) for j in range(n)], (i, n))
    for j in range(n + 1):
        line([(i, j) for i in range(m)], (m, j))
    ranges = {}
    for cell, k in index.items():
        bounds = []
        for sense in (1.0, -1.0):
            objective = [0.0] * len(unknown)
            objective[k] = sense
            result = linprog(objective, A_eq=equations, b_eq=rhs, bounds=(0, None))
            if result.status == 3:  # unbounded above
                bounds.append(float("inf"))
            else:
                assert result.status == 0, result.message
                bounds.append(sense * result.fun)
        ranges[cell] = (bounds[0], bounds[1])
    return ranges


def assert_safe(table: list[list[int]], threshold: int) -> SuppressedTable:
    published = suppress(table, threshold=threshold)
    m, n = len(table), len(table[0])
    truth = [[*row, sum(row)] for row in table]
    truth.append([*(sum(table[i][j] for i in range(m)) for j in range(n)), sum(map(sum, table))])
    shown = [[*row, published.row_totals[i]] for i, row in enumerate(published.cells)]
    shown.append([*published.column_totals, published.total])
    for i in range(m + 1):
        for j in range(n + 1):
            if shown[i][j] is not None:
                assert shown[i][j] == truth[i][j]
                assert not 0 < shown[i][j] < threshold, (i, j, shown[i][j])
    for (i, j), (low, high) in feasible_ranges(table, published).items():
        assert low - 1e-6 <= truth[i][j] <= high + 1e-6
        if 0 < truth[i][j] < threshold:
            # The reader cannot conclude that this figure is below the threshold.
            assert high >= threshold - 1e-6, ((i, j), truth[i][j], low, high, table)
        # Nor pin any suppressed figure to a value from 1 to threshold - 1.
        assert not (abs(high - low) < 1e-6 and 0 < round(low) < threshold)
    return published


tables = st.integers(1, 5).flatmap(
    lambda rows: st.integers(1, 5).flatmap(
        lambda columns: st.lists(
            st.lists(st.integers(0, 12), min_size=columns, max_size=columns),
            min_size=rows,
            max_size=rows,
        )
    )
)
small_counts = st.integers(1, 4).flatmap(
    lambda rows: st.integers(1, 4).flatmap(
        lambda columns: st.lists(
            st.lists(st.integers(0, 3), min_size=columns, max_size=columns),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables, threshold=st.sampled_from([2, 3, 5]))
def test_no_published_or_derivable_figure_below_the_threshold(table, threshold):
    assert_safe(table, threshold)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=small_counts)
def test_tables_of_mostly_small_counts_stay_safe(table):
    assert_safe(table, 3)


def test_a_single_small_cell_gets_three_complements_and_totals_stay():
    table = [[10, 12, 9], [11, 1, 14], [13, 15, 16]]
    published = assert_safe(table, 3)
    flat = [v for row in published.cells for v in row]
    assert flat.count(None) == 4
    assert published.cells[1][1] is None
    assert published.total == sum(map(sum, table))
    assert None not in published.row_totals and None not in published.column_totals


def test_nothing_sensitive_publishes_everything():
    table = [[0, 3, 4], [5, 0, 6]]
    published = suppress(table)
    assert published.cells == table
    assert published.suppressed_count == 0


def test_a_town_of_two_people_is_hidden_with_its_total():
    published = assert_safe([[1, 1, 0], [20, 30, 40]], 3)
    assert published.row_totals[0] is None
    assert published.cells[0][0] is None and published.cells[0][1] is None


def test_one_column_table_hides_two_rows():
    published = assert_safe([[2], [40], [37]], 3)
    assert published.cells[0][0] is None
    assert sum(v is None for row in published.cells for v in row) >= 2


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        suppress([[1, 2], [3]])
    with pytest.raises(ValueError):
        suppress([[1, -2]])
    with pytest.raises(ValueError):
        suppress([[1]], threshold=0)


def test_render_marks_suppressed_figures():
    assert render(None) == "X"
    assert render(0) == "0"
