"""Qt widgets and windows; the only place in the code base that imports PySide6."""
