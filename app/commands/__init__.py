"""Command groups for ``locas``; each module exposes ``register(subparsers)``.

A subcommand sets ``func=fn`` with ``set_defaults``; ``fn(args) -> int`` returns the exit
status. User-facing failures are printed as one sentence on stderr, never as a traceback.
"""
