"""The one entry script of the packaged app: `locas` runs the command line, anything else the GUI.

Both executables are built from this script so that PyInstaller analyses the (large) dependency
graph once and both share one folder of libraries; which program runs is decided by the name the
executable was started as, busybox-style.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path


def main() -> int:
    multiprocessing.freeze_support()  # a frozen app must not re-run main() in child processes
    if os.environ.get("LOCAS_BLOCK_NETWORK") == "1":  # before anything could open a connection
        from app.selftest import block_network

        block_network()
    if Path(sys.executable).stem.lower() == "locas":
        from app.cli import main as cli_main

        return cli_main()
    from app.ui.main import main as gui_main

    return gui_main()


if __name__ == "__main__":
    sys.exit(main())
