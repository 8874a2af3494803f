"""Sizes and durations written for people: the one place each is formatted (no Qt, no torch).

Why one place: the window, the command line and error sentences show the same quantities, and
two formatters drift apart (one said "1.0 KB" for 1024 bytes, another "1 KiB").
"""

from __future__ import annotations

_DECIMAL = ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB"))
_BINARY = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


def size(n_bytes: int | float | None, binary: bool = False, empty: str = "") -> str:
    """'253.1 MB' (decimal, as disks and downloads are sold), or '200 MiB' with ``binary`` (for
    limits set in MiB, so 200 MiB reads "200 MiB", not "209.7 MB"); ``empty`` when unknown."""
    if n_bytes is None or n_bytes != n_bytes:
        return empty
    for scale, unit in _BINARY if binary else _DECIMAL:
        if n_bytes >= scale:
            value = f"{n_bytes / scale:,.1f}"
            return (value.rstrip("0").rstrip(".") if binary else value) + f" {unit}"
    return f"{n_bytes:.0f} B"


def count(n: int | float | None, unit: str = "", empty: str = "") -> str:
    """A large count for people: '268.1 M', '1.2k tokens' style without the unit's plural rules."""
    if n is None or n != n:
        return empty
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.1f} {suffix}{unit}".rstrip()
    return f"{n:.0f} {unit}".rstrip()


def duration(seconds: float | None, exact: bool = False) -> str:
    """An estimate rounded to what matters ('40 s', '12 min', '1 h 05 min'), or with ``exact`` a
    countdown to the second ('3 min 20 s'); empty when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return ""
    if exact:
        s = int(round(seconds))
        if s < 3600:
            return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"
        minutes = s // 60
    else:
        if seconds < 60:
            return f"{max(1, round(seconds))} s"
        minutes = round(seconds / 60)
        if minutes < 60:
            return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
