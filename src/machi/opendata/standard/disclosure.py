"""Disclosure control for published counts (統計表の秘匿).

A table is a matrix of non-negative counts published with its row totals, its column
totals and its grand total. ``suppress`` decides which of these figures are replaced by
``X``:

* **Primary suppression**: every figure (cell or total) from 1 to ``threshold - 1`` is
  sensitive. Zeros are published: a zero identifies nobody.
* **Secondary suppression**: for every sensitive figure the method suppresses the three
  other corners of a rectangle in the table bordered by its totals, so that a reader
  who solves the published row and column sums can move at least ``threshold - value``
  people onto the sensitive figure. Its feasible range then reaches ``threshold``, and
  nobody can conclude that it is below the threshold. The rectangle is chosen among
  corners already suppressed first, then the cheapest (fewest and smallest new figures,
  totals avoided because they are the most used figures), with the grand total as the
  last resort, which always protects (raising a cell raises its row, its column and the
  grand total together).

Adding suppressions only widens every feasible range, so each rectangle keeps
protecting its figure while later ones are added. Pure Python, no dependencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 3
MARK = "X"


@dataclass(frozen=True)
class SuppressedTable:
    """The published figures: ``None`` where a figure is suppressed."""

    cells: list[list[int | None]]
    row_totals: list[int | None]
    column_totals: list[int | None]
    total: int | None
    threshold: int

    @property
    def suppressed_count(self) -> int:
        figures = [*(v for row in self.cells for v in row), *self.row_totals]
        figures += [*self.column_totals, self.total]
        return sum(1 for v in figures if v is None)


def is_sensitive(value: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    return 0 < value < threshold


def _signs(rows: int, columns: int) -> tuple[list[int], list[int]]:
    # In the table bordered by its totals (the last row and column), weighting the totals
    # by -1 makes every line sum to zero; a rectangle move keeps every line's sum.
    return [*([1] * rows), -1], [*([1] * columns), -1]


def suppress(table: Sequence[Sequence[int]], threshold: int = DEFAULT_THRESHOLD) -> SuppressedTable:
    """Suppress the figures of ``table`` (rows of non-negative ints) and its totals that
    could identify fewer than ``threshold`` people; see the module's notes for the method."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    m = len(table)
    n = len(table[0]) if m else 0
    if any(len(row) != n for row in table):
        raise ValueError("every row needs the same number of cells")
    if any((not isinstance(v, int)) or v < 0 for row in table for v in row):
        raise ValueError("cells are non-negative integers")
    row_totals = [sum(row) for row in table]
    column_totals = [sum(table[i][j] for i in range(m)) for j in range(n)]
    grand = sum(row_totals)
    # The bordered table: a[i][n] row totals, a[m][j] column totals, a[m][n] the total.
    a = [[*row, row_totals[i]] for i, row in enumerate(table)]
    a.append([*column_totals, grand])
    sigma, tau = _signs(m, n)
    hidden = {
        (i, j) for i in range(m + 1) for j in range(n + 1) if is_sensitive(a[i][j], threshold)
    }
    if hidden and m and n:
        _secondary(a, hidden, sigma, tau, threshold, m, n)

    def shown(i: int, j: int) -> int | None:
        return None if (i, j) in hidden else a[i][j]

    return SuppressedTable(
        cells=[[shown(i, j) for j in range(n)] for i in range(m)],
        row_totals=[shown(i, n) for i in range(m)],
        column_totals=[shown(m, j) for j in range(n)],
        total=shown(m, n),
        threshold=threshold,
    )


def _cost(a: list[list[int]], cell: tuple[int, int], hidden: set, m: int, n: int) -> float:
    if cell in hidden:
        return 0.0
    i, j = cell
    weight = 1.0
    if i == m and j == n:
        weight = 1000.0
    elif i == m or j == n:
        weight = 20.0
    return weight * (1 + a[i][j])


def _step(
    cell: tuple[int, int], b: int, q: int, sigma: list[int], tau: list[int]
) -> dict[tuple[int, int], int]:
    """The change of each corner of the rectangle (cell, (b, q)) when ``cell`` rises by
    one person, every line's sum kept."""
    i, j = cell
    unit = sigma[i] * tau[j]
    return {
        (i, j): 1,
        (i, q): -unit * sigma[i] * tau[q],
        (b, j): -unit * sigma[b] * tau[j],
        (b, q): unit * sigma[b] * tau[q],
    }


def _secondary(
    a: list[list[int]], hidden: set, sigma: list[int], tau: list[int], threshold: int,
    m: int, n: int,
) -> None:  # fmt: skip
    candidates = 6
    for cell in sorted(hidden, key=lambda c: (a[c[0]][c[1]], c)):
        i, j = cell
        need = threshold - a[i][j]
        rows = [b for b in range(m + 1) if b != i]
        columns = [q for q in range(n + 1) if q != j]
        # Rows and columns holding suppressed figures first, then the cheapest, so the
        # search stays small on wide tables; all of them if none of those works.
        rows_first = sorted(rows, key=lambda b: _cost(a, (b, cell[1]), hidden, m, n))
        columns_first = sorted(columns, key=lambda q: _cost(a, (cell[0], q), hidden, m, n))
        searches = [(rows_first[:candidates], columns_first[:candidates]), (rows, columns)]
        best: tuple[float, int, int] | None = None
        for row_options, column_options in searches:
            for b in row_options:
                for q in column_options:
                    step = _step(cell, b, q, sigma, tau)
                    if any(a[x][y] < need for (x, y), d in step.items() if d < 0):
                        continue
                    cost = sum(_cost(a, corner, hidden, m, n) for corner in step)
                    if best is None or cost < best[0]:
                        best = (cost, b, q)
            if best is not None:
                break
        # The grand total's rectangle always works (every corner rises), so best is set.
        assert best is not None
        _, b, q = best
        hidden.update(_step(cell, b, q, sigma, tau))


def render(value: int | None) -> str:
    """A published figure as written in a CSV: the number, or the suppression mark."""
    return MARK if value is None else str(value)
