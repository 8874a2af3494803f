"""Say in one sentence which system libraries to install when Qt's X11 window cannot open.

On a plain Linux desktop the PySide6 wheel's X11 ("xcb") platform plugin needs libraries that are
not installed by default (libxcb-cursor0 first of all); Qt then aborts with "Could not load the
Qt platform plugin xcb", a message that names neither the library nor the package. Checked with
ctypes before the QApplication is created, so the person reads what to install instead. No Qt
import here: this must run when Qt itself cannot start.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable, Mapping

# What libQt6XcbQpa links against beyond libxcb itself (ldd), as find_library names, with the
# Debian/Ubuntu package that provides each.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-randr": "libxcb-randr0",
    "xcb-shape": "libxcb-shape0",
    "xcb-xkb": "libxcb-xkb1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "X11-xcb": "libx11-xcb1",
}


def qt_platform(env: Mapping[str, str], system: str) -> str | None:
    """The platform plugin Qt will pick: QT_QPA_PLATFORM, else xcb on a Linux X11 session."""
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if not system.startswith("linux"):
        return None
    if env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY"):
        return "wayland"
    return "xcb"


def missing_display_libraries(env: Mapping[str, str] | None = None, system: str | None = None,
                              find_library: Callable[[str], str | None] | None = None) -> list[str]:
    """Debian package names of the libraries Qt's xcb plugin needs and cannot find ([] if none,
    or when Qt will not use xcb)."""
    env = os.environ if env is None else env
    find_library = find_library or ctypes.util.find_library
    if qt_platform(env, system or sys.platform) != "xcb":
        return []
    return [package for lib, package in XCB_LIBRARIES.items() if not find_library(lib)]


def display_problem(**kwargs) -> str | None:
    """The sentence to print when the window cannot open for lack of libraries, else None."""
    missing = missing_display_libraries(**kwargs)
    if not missing:
        return None
    names = " ".join(missing)
    return (
        f"Locas Reader cannot open its window: Qt's X11 platform needs system libraries that are "
        f"not installed ({names}); install them (for example with `sudo apt install {names}`) and start "
        "it again (the `locas` command line works without them)."
    )
