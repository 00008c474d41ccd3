"""Disclosure control for released tables (DESIGN §7): primary suppression of
cells under k, complementary suppression so that no suppressed value can be
recomputed from the other values of the same release, totals consistent with
the cells.

A release of a table over n dimensions holds its cells, its margins (the sums
over each single dimension, for every combination of the others) and its grand
total. Every released total is the exact sum of cells of the table, so the
release satisfies linear equations an attacker can use:
margin = Σ cells of its line, and grand total = Σ all cells. Zeros are released
as zeros (an attacker therefore knows a suppressed value is ≥ 1).

The protection repeats, until nothing changes:
1. every value with 0 < v < k is suppressed (cells, margins, grand total);
2. no equation may have exactly one unknown (it would give it away);
3. no equation may pin its unknown cells by their lower bound (unknowns summing
   to exactly their count, so each is 1);
4. an exact attacker (Gaussian elimination over the rationals on all equations)
   must not determine any suppressed value; if it does, one more cell is
   suppressed in an equation of the value it found.
Each time a cell must be added, the smallest positive released cell of the
equation is chosen (least information lost).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import product

Key = tuple  # a cell: one value per dimension; a total: None where summed
TOTAL = None
MAX_EXACT_UNKNOWNS = 400  # beyond this, rules 1-3 only (documented limitation)


@dataclass
class Release:
    dimensions: tuple[str, ...]
    categories: tuple[tuple[Hashable, ...], ...]
    values: dict[Key, int]  # every cell and total, before suppression
    suppressed: set[Key] = field(default_factory=set)
    threshold: int = 10

    def shown(self, key: Key) -> int | None:
        return None if key in self.suppressed else self.values[key]

    def cells(self) -> list[Key]:
        return list(product(*self.categories))

    def totals(self) -> list[Key]:
        return [k for k in self.values if TOTAL in k]


def build(dimensions: Iterable[str], counts: dict[Key, int], *, threshold: int) -> Release:
    """The full table (zeros where no row was counted) with its margins and total."""
    dimensions = tuple(dimensions)
    n = len(dimensions)
    categories = tuple(tuple(sorted({key[i] for key in counts}, key=_sort_key)) for i in range(n))
    values: dict[Key, int] = {}
    for cell in product(*categories):
        values[cell] = int(counts.get(cell, 0))
    for i in range(n):
        for cell in product(*categories):
            margin = (*cell[:i], TOTAL, *cell[i + 1 :])
            values[margin] = values.get(margin, 0) + values[cell]
    if n > 1:
        values[(TOTAL,) * n] = sum(values[c] for c in product(*categories))
    return Release(dimensions, categories, values, threshold=threshold)


def _sort_key(value: Hashable) -> tuple:
    return (value is None, str(value))


def equations(release: Release) -> list[tuple[Key, list[Key]]]:
    """(total, the cells it sums) for every released total."""
    n = len(release.dimensions)
    result = []
    for i in range(n):
        others = [release.categories[j] for j in range(n) if j != i]
        for rest in product(*others):
            total = (*rest[:i], TOTAL, *rest[i:])
            line = [(*rest[:i], value, *rest[i:]) for value in release.categories[i]]
            result.append((total, line))
    if n > 1:
        grand = (TOTAL,) * n
        result.append((grand, release.cells()))
        # The grand total is also the sum of each margin table.
        for i in range(n):
            others = [release.categories[j] for j in range(n) if j != i]
            result.append((grand, [(*rest[:i], TOTAL, *rest[i:]) for rest in product(*others)]))
    return result


def protect(release: Release) -> Release:
    k = release.threshold
    values = release.values
    suppressed = {key for key, v in values.items() if 0 < v < k}
    eqs = equations(release)
    for _ in range(10_000):
        changed = False
        for total, line in eqs:
            entries = [total, *line]
            unknown = [e for e in entries if e in suppressed]
            if not unknown:
                continue
            unknown_cells = [e for e in line if e in suppressed]
            pinned = (
                total not in suppressed
                and unknown_cells
                and sum(values[e] for e in unknown_cells) == len(unknown_cells)
            )
            if (len(unknown) == 1 or pinned) and _suppress_one_more(
                line, total, suppressed, values
            ):
                changed = True
        if not changed:
            determined = exact_attack(release, suppressed)
            if not determined:
                break
            target = determined[0]
            for total, line in eqs:
                if (target == total or target in line) and _suppress_one_more(
                    line, total, suppressed, values
                ):
                    changed = True
                    break
            if not changed:
                break  # nothing left to suppress in its equations
    release.suppressed = suppressed
    return release


def _suppress_one_more(line: list[Key], total: Key, suppressed: set[Key], values: dict) -> bool:
    candidates = [e for e in line if e not in suppressed and values[e] > 0]
    if candidates:
        suppressed.add(min(candidates, key=lambda e: (values[e], str(e))))
        return True
    if total not in suppressed and values[total] > 0:
        suppressed.add(total)
        return True
    return False


def exact_attack(release: Release, suppressed: set[Key]) -> list[Key]:
    """Suppressed values that the released values determine exactly: Gaussian
    elimination over the rationals, unknowns = suppressed values, plus the
    lower bound (a suppressed value is ≥ 1, as zeros are shown)."""
    unknowns = sorted(suppressed, key=str)
    if not unknowns or len(unknowns) > MAX_EXACT_UNKNOWNS:
        return []
    index = {u: i for i, u in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for total, line in equations(release):
        coeffs = [Fraction(0)] * (len(unknowns) + 1)
        constant = Fraction(0)
        for e, sign in [(total, -1), *((c, 1) for c in line)]:
            if e in index:
                coeffs[index[e]] += sign
            else:
                constant -= sign * release.values[e]
        if any(coeffs[:-1]):
            coeffs[-1] = constant
            rows.append(coeffs)
    reduced = _rref(rows, len(unknowns))
    found = []
    for row in reduced:
        nonzero = [i for i, c in enumerate(row[:-1]) if c != 0]
        if len(nonzero) == 1:
            found.append(unknowns[nonzero[0]])
    return found


def _rref(rows: list[list[Fraction]], width: int) -> list[list[Fraction]]:
    rows = [r[:] for r in rows]
    pivot_row = 0
    for col in range(width):
        pivot = next((r for r in range(pivot_row, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[pivot_row], rows[pivot] = rows[pivot], rows[pivot_row]
        lead = rows[pivot_row][col]
        rows[pivot_row] = [v / lead for v in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivot_row += 1
        if pivot_row == len(rows):
            break
    return rows[:pivot_row]
