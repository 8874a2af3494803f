"""QA scoring: the paired interval that says whether two modes really differ (F1: test_benches)."""

from __future__ import annotations

import pytest

from app.bench.scoring import paired_difference


def test_paired_difference_separates_a_real_gap_from_noise():
    better = [0.5, 0.6, 0.4, 0.7] * 25
    worse = [x - 0.2 for x in better]
    diff, low, high = paired_difference(better, worse)
    assert diff == pytest.approx(0.2) and 0 < low <= diff <= high

    # Two modes that win and lose the same amount on alternate questions: no difference.
    a = [1.0, 0.0] * 50
    b = [0.0, 1.0] * 50
    diff, low, high = paired_difference(a, b)
    assert diff == 0.0 and low < 0 < high

    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 0.0])
