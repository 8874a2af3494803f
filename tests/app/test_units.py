"""Sizes and durations for people come from one module (app/units.py)."""

from __future__ import annotations

from app import units


def test_sizes_decimal_for_disks_binary_for_limits_set_in_mib():
    assert units.size(253_000_000) == "253.0 MB" and units.size(24e9) == "24.0 GB"
    assert units.size(512) == "512 B" and units.size(1500) == "1.5 kB"
    assert units.size(200 * 2**20, binary=True) == "200 MiB"  # not "209.7 MB": the limit reads as set
    assert units.size(int(1.19 * 2**20), binary=True) == "1.2 MiB"
    assert units.size(None) == "" and units.size(None, empty="–") == "–"


def test_counts():
    assert units.count(268_100_000) == "268.1 M" and units.count(1_700, "B") == "1.7 kB"
    assert units.count(12) == "12" and units.count(None, empty="–") == "–"


def test_durations_rounded_for_estimates_exact_for_countdowns():
    assert [units.duration(s) for s in (0.2, 40, 125, 3900)] == ["1 s", "40 s", "2 min", "1 h 05 min"]
    assert [units.duration(s, exact=True) for s in (12, 200, 3900)] == ["12 s", "3 min 20 s", "1 h 05 min"]
    assert units.duration(None) == "" and units.duration(float("nan")) == "" and units.duration(-1) == ""
