"""``python -m locas_engine.bench NAME [FLAGS]``: the engine's benchmarks without the app."""

from __future__ import annotations

import sys

from . import ENGINE_BENCHES, run_bench


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ENGINE_BENCHES:
        print("usage: python -m locas_engine.bench NAME [FLAGS]  (NAME --help for its flags)")
        for name, (_, help_text) in ENGINE_BENCHES.items():
            print(f"  {name:8} {help_text}")
        return 2
    run_bench(ENGINE_BENCHES[argv[0]][0], argv[1:], prog=f"python -m locas_engine.bench {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
