"""A careful analyst's joint attack on every release they can obtain.

The attacker knows the method and its parameters (stats.cellkey: the threshold
and the largest perturbation) and, stronger than any real analyst, which
categories of each dimension occur at all. Their unknowns are the finest cells
of the population (one integer per combination of every attribute); each
released figure — a cell or a total of any release, whatever it was asked
with — is a linear constraint on a sum of unknowns: a shown figure v bounds it
to [v - d, v + d], a figure under the threshold to [0, k - 1 + d]. Releases are
attacked together with integer programming (scipy's milp, HiGHS)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
from scipy import sparse as scipy_sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from stats import cellkey
from stats.selectors import TOTAL
from tests.stats.population import Person

# The attributes of a finest cell; every dimension the attack asks about is a
# function of them.
BASE = ["sex", "minor", "nationality", "departement", "exploitation_form", "month", "case"]


def dimension_values(cell: dict[str, Any]) -> dict[str, Any]:
    return {
        **cell,
        "age_group": "minor" if cell["minor"] else "25-34",
        "quarter": f"2025-Q{(cell['month'] + 2) // 3}",
        "month": f"2025-{cell['month']:02d}",
    }


def person_cell(p: Person) -> dict[str, Any]:
    return {
        "sex": p.sex,
        "minor": p.minor,
        "nationality": p.nationality,
        "departement": p.departement,
        "exploitation_form": p.form,
        "month": p.month,
        "case": p.case,
    }


class Inconsistent(AssertionError):
    """The same set of people showed two different figures."""


@dataclass
class Attack:
    people: list[Person]
    support: dict[str, list[Any]] = field(init=False)
    cells: list[dict[str, Any]] = field(init=False)
    truth: np.ndarray = field(init=False)
    constraints: dict[bytes, tuple[np.ndarray, int | None]] = field(default_factory=dict)
    releases: int = 0
    # True: the attacker knows the figures are exact (no perturbation).
    exact: bool = False
    # Dimensions with one value for everyone (known to the attacker).
    constants: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen = [person_cell(p) for p in self.people]
        self.support = {a: sorted({c[a] for c in seen}, key=str) for a in BASE}
        self.support["case"] = [False, True]
        self.cells = [dict(zip(BASE, v, strict=True)) for v in product(*self.support.values())]
        index = {tuple(c.values()): i for i, c in enumerate(self.cells)}
        self.truth = np.zeros(len(self.cells), dtype=int)
        for c in seen:
            self.truth[index[tuple(c.values())]] += 1
        values = [dimension_values(c) for c in self.cells]
        self._masks: dict[tuple[str, Any], np.ndarray] = {}
        for name in [*values[0]]:
            for v in {row[name] for row in values}:
                self._masks[(name, v)] = np.array([row[name] == v for row in values])
        self._all = np.ones(len(self.cells), dtype=bool)
        for name, value in self.constants.items():
            self._masks[(name, value)] = self._all

    def mask(self, conditions: dict[str, Any]) -> np.ndarray | None:
        """The finest cells a released figure sums, or None when a condition
        names a category outside the support (a known zero)."""
        result = self._all
        for name, value in conditions.items():
            found = self._masks.get((name, value))
            if found is None:
                return None
            result = result & found
        return result

    def add(self, release: dict[str, Any], *, period: str, filters: dict[str, Any]) -> None:
        """Every figure of one release (cells and totals)."""
        self.releases += 1
        fixed = dict(filters)
        if release["measure"] in ("cases",):
            fixed["case"] = True
        if len(period) == 7 and period[5] == "Q":
            fixed["quarter"] = period
        elif len(period) == 7:
            fixed["month"] = period
        for row in [*release["rows"], *release["totals"]]:
            conditions = {
                **fixed,
                **{n: row[n] for n in release["dimensions"] if row[n] != TOTAL},
            }
            m = self.mask(conditions)
            if m is None or not m.any():
                assert row["count"] is None, (conditions, row)  # no one there: never shown
                continue
            key = np.packbits(m).tobytes()
            previous = self.constraints.get(key)
            if previous is not None and previous[1] != row["count"]:
                raise Inconsistent((conditions, previous[1], row["count"]))
            self.constraints[key] = (m, row["count"])

    # The attack proper.

    def _system(self) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
        masks = [m for m, _ in self.constraints.values()]
        k = cellkey.threshold()
        bounds = [
            ((0, k - 1) if shown is None else (shown, shown))
            if self.exact
            else cellkey.bounds(shown)
            for _, shown in self.constraints.values()
        ]
        matrix = csr_matrix(np.array(masks, dtype=float))
        low = np.array([b[0] for b in bounds], dtype=float)
        high = np.array([b[1] for b in bounds], dtype=float)
        return matrix, low, high

    def check_truth_is_feasible(self) -> None:
        matrix, low, high = self._system()
        sums = matrix @ self.truth
        bad = np.nonzero((sums < low) | (sums > high))[0]
        assert not len(bad), f"{len(bad)} released figures outside the published bounds"

    def _solve(self, objective: np.ndarray, system) -> np.ndarray:
        matrix, low, high = system
        result = milp(
            objective,
            integrality=np.ones(len(self.cells)),
            bounds=Bounds(0, np.inf),
            constraints=LinearConstraint(matrix, low, high),
            options={"time_limit": 60},
        )
        assert result.status == 0, result.message
        return np.rint(result.x)

    def targets(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(small, zero): every released figure and every finest cell whose true
        count is between 1 and 9, and those whose true count is 0."""
        masks = [m for m, _ in self.constraints.values()]
        masks += [np.eye(1, len(self.cells), i, dtype=bool)[0] for i in range(len(self.cells))]
        small, zero, seen = [], [], set()
        for m in masks:
            key = np.packbits(m).tobytes()
            if key in seen:
                continue
            seen.add(key)
            true = int(self.truth[m].sum())
            if 1 <= true <= 9:
                small.append(m)
            elif true == 0:
                zero.append(m)
        return small, zero

    def determined(
        self, targets: Iterable[np.ndarray], *, first: bool = False
    ) -> list[tuple[np.ndarray, int, int]]:
        """The small targets the attacker pins to an interval excluding both 0
        and 10 (exactly, or within 1…9): (mask, min, max) of each."""
        system = self._system()
        open_ = list(targets)
        k = cellkey.threshold()
        # All at once first: one solution witnesses many targets at 0 or ≥ k;
        # again while that helps, then one by one.
        for _ in range(12):
            before = len(open_)
            for sign in (1, -1):
                if open_:
                    x = self._solve(sign * np.sum(open_, axis=0).astype(float), system)
                    open_ = [t for t in open_ if 0 < x[t].sum() < k]
            if len(open_) == before:
                break
        pinned = []
        for t in open_:
            low = self._solve(t.astype(float), system)[t].sum()
            if low == 0:
                continue
            high = self._solve(-t.astype(float), system)[t].sum()
            if high < k:
                pinned.append((t, int(low), int(high)))
                if first:
                    break
        return pinned

    def proven_zero(self, targets: Iterable[np.ndarray]) -> list[np.ndarray]:
        """The zero targets the attacker can prove to be zero. One program finds
        a world where as many of them as possible are at least 1 (a binary y per
        target, y ≤ its sum); again on those left, then one by one."""
        matrix, low, high = self._system()
        open_ = [t for t in targets if not self._moved_witness(t, matrix, low, high)]
        n = len(self.cells)
        for _ in range(3):
            if not open_:
                return []
            m = len(open_)
            chosen = csr_matrix(np.array(open_, dtype=float))
            A = scipy_sparse.vstack(
                [
                    scipy_sparse.hstack([matrix, csr_matrix((matrix.shape[0], m))]),
                    scipy_sparse.hstack([chosen, -scipy_sparse.identity(m)]),
                ]
            ).tocsr()
            result = milp(
                np.concatenate([np.zeros(n), -np.ones(m)]),
                integrality=np.ones(n + m),
                bounds=Bounds(0, np.concatenate([np.full(n, np.inf), np.ones(m)])),
                constraints=LinearConstraint(
                    A,
                    np.concatenate([low, np.zeros(m)]),
                    np.concatenate([high, np.full(m, np.inf)]),
                ),
                options={"time_limit": 60},
            )
            assert result.x is not None, result.message
            x = np.rint(result.x[:n])
            before = len(open_)
            open_ = [t for t in open_ if x[t].sum() == 0]
            if len(open_) == before:
                break
        system = (matrix, low, high)
        return [t for t in open_ if self._solve(-t.astype(float), system)[t].sum() == 0]

    def _moved_witness(self, target: np.ndarray, matrix, low, high) -> bool:
        """A world near the truth where the target holds someone: one more
        person in one of its finest cells, or one person moved there from
        another cell, every released figure still within its bounds."""
        dense = matrix.toarray()
        sums = dense @ self.truth
        for j in np.nonzero(target)[0]:
            added = sums + dense[:, j]
            if np.all((added >= low) & (added <= high)):
                return True
            donors = np.nonzero((self.truth > 0) & ~target)[0]
            moved = added[:, None] - dense[:, donors]
            if np.any(np.all((moved >= low[:, None]) & (moved <= high[:, None]), axis=0)):
                return True
        return False

    def describe(self, mask: np.ndarray) -> str:
        cells = [self.cells[i] for i in np.nonzero(mask)[0]]
        common = {a: cells[0][a] for a in BASE if all(c[a] == cells[0][a] for c in cells)}
        return f"{common} ({len(cells)} finest cells, true {int(self.truth[mask].sum())})"
