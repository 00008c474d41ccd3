"""Disclosure control: crafted tables, then hypothesis trying to recompute
suppressed values from what a release shows (and failing)."""

from __future__ import annotations

from itertools import product

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stats.disclosure import TOTAL, build, equations, exact_attack, protect

K = 10


def test_nothing_suppressed_when_every_value_reaches_k():
    release = protect(build(["sex"], {("female",): 40, ("male",): 12}, threshold=K))
    assert release.suppressed == set()
    assert release.shown((TOTAL,)) == 52


def test_one_small_cell_in_a_row_needs_a_partner():
    counts = {("female",): 40, ("male",): 3, ("other",): 15}
    release = protect(build(["sex"], counts, threshold=K))
    assert ("male",) in release.suppressed
    assert ("other",) in release.suppressed  # else male = total - female - other
    assert release.shown(("female",)) == 40


def test_two_by_two_with_one_small_cell():
    counts = {("a", "x"): 3, ("a", "y"): 20, ("b", "x"): 25, ("b", "y"): 30}
    release = protect(build(["r", "c"], counts, threshold=K))
    assert {("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")} <= release.suppressed
    assert exact_attack(release, release.suppressed) == []


def test_small_total_is_suppressed_too():
    counts = {("a", "x"): 0, ("a", "y"): 4, ("b", "x"): 30, ("b", "y"): 40}
    release = protect(build(["r", "c"], counts, threshold=K))
    assert ("a", TOTAL) in release.suppressed
    assert release.shown(("a", "x")) == 0  # zeros are shown


def test_unknowns_pinned_by_their_lower_bound_are_protected():
    # x + y = 2 with x, y ≥ 1 would give both away.
    counts = {("a",): 1, ("b",): 1, ("c",): 50}
    release = protect(build(["d"], counts, threshold=K))
    unknown = [key for key in release.cells() if key in release.suppressed]
    assert sum(release.values[key] for key in unknown) > len(unknown)


def attacker_recovers(release) -> list:
    """Everything an attacker can pin down from one release: exact linear
    solutions, then equations whose unknowns must all be 1."""
    found = exact_attack(release, release.suppressed)
    for total, line in equations(release):
        if total in release.suppressed:
            continue
        unknown = [c for c in line if c in release.suppressed]
        if unknown and sum(release.values[c] for c in unknown) == len(unknown):
            found.extend(unknown)
    return found


counts_2d = st.integers(min_value=2, max_value=5).flatmap(
    lambda rows: st.integers(min_value=2, max_value=5).flatmap(
        lambda cols: st.lists(
            st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 60)),
            min_size=rows * cols,
            max_size=rows * cols,
        ).map(
            lambda values: {
                (f"r{i}", f"c{j}"): values[i * cols + j]
                for i, j in product(range(rows), range(cols))
            }
        )
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts_2d)
def test_no_suppressed_value_can_be_recomputed_2d(counts):
    release = protect(build(["r", "c"], counts, threshold=K))
    for key, value in release.values.items():
        if 0 < value < K:
            assert key in release.suppressed
        if value == 0:
            assert key not in release.suppressed
    assert attacker_recovers(release) == []


counts_3d = st.lists(
    st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 40)), min_size=8, max_size=8
).map(lambda v: {key: v[i] for i, key in enumerate(product("ab", "xy", "uv"))})


@settings(max_examples=80, deadline=None)
@given(counts_3d)
def test_no_suppressed_value_can_be_recomputed_3d(counts):
    release = protect(build(["p", "q", "s"], counts, threshold=K))
    assert attacker_recovers(release) == []
    for key, value in release.values.items():
        if 0 < value < K:
            assert key in release.suppressed


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 40), min_size=1))
def test_one_dimension_tables(raw):
    release = protect(build(["d"], {(k,): v for k, v in raw.items()}, threshold=K))
    assert attacker_recovers(release) == []
    shown_cells = [release.shown(c) for c in release.cells()]
    total = release.shown((TOTAL,))
    if total is not None and None not in shown_cells:
        assert total == sum(shown_cells)  # totals consistent with cells
