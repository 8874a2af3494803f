"""The ``locas`` command line: a thin argparse shell over the application core.

Each command group lives in its own module under ``app.commands`` and exposes
``register(subparsers)``; adding a group is one line in COMMAND_MODULES, so engineers working on
different commands never edit the same lines. A subcommand sets ``func=handler`` with
``set_defaults``; ``handler(args)`` returns the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# One line per command group (module path relative to the app package).
COMMAND_MODULES = [
    "app.commands.library",
    "app.commands.memory",
    "app.commands.notes",
    "app.commands.bench",
    "app.commands.models",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="locas",
        description="Locas Reader: import books and chat logs, memorize them, ask questions.",
    )
    parser.add_argument("--self-test", action="store_true",
                        help="import, search, memorize and reload a bundled sample offline, and show an "
                             "answer; exit 0 only if every check passes")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``locas``; returns (and, as a script, exits with) the status code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--self-test"]:  # before the command modules import anything heavy
        from app.selftest import main as self_test

        return self_test(args_list[1:])
    from app.commands.bench import bench_command

    bench = bench_command(args_list)  # a benchmark's own parser; built only when it runs
    if bench is not None:
        handler, args = bench
    else:
        parser = build_parser()
        args = parser.parse_args(args_list)
        handler = getattr(args, "func", None)
        if handler is None:
            parser.print_help()
            return 2
    try:
        _say_settings_problems()
        return int(handler(args) or 0)
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise
        print(f"locas: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are sentences for the user. The engine's are looked up only if the engine was
    loaded: a command that needs no model never imports torch (tests/app/test_startup.py)."""
    from app.errors import UserError

    errors: list[type[BaseException]] = [UserError]
    for module, name in (("locas_engine.ffn", "UnsupportedModelError"),
                         ("locas_engine.store", "MemoryMismatchError")):
        if module in sys.modules:
            errors.append(getattr(sys.modules[module], name))
    return tuple(errors)


def _say_settings_problems() -> None:
    """A damaged settings field is named once per command; the command still runs with its default."""
    from app.settings import load_settings

    for problem in load_settings().problems:
        print(f"locas: {problem}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
