"""`locas memory import FILE [--name NEW]`: add an exported memory, checked against the model.

Kept apart from app.commands.memory (which registers it) so the import and the other memory
commands can change without touching the same lines.
"""

from __future__ import annotations

import argparse


def register_import(msub: argparse._SubParsersAction) -> None:
    q = msub.add_parser(
        "import", help="add an exported memory file (refused if made for another model)",
        description="Add a memory exported with 'locas memory export' (the .safetensors or .json "
                    "file, or a folder holding one memory). It is checked against the model in "
                    "the settings (or --model): a memory made for another model is refused and "
                    "nothing is changed.",
    )
    q.add_argument("file", metavar="FILE", help="the exported .safetensors or .json file, or its folder")
    q.add_argument("--name", help="the name in this library (default: the name it was saved with)")
    q.add_argument("--model", help="'default', a model folder or a .gguf file")
    q.add_argument("--device", help="auto, cpu, cuda or mps")
    q.set_defaults(func=cmd_memory_import)


def cmd_memory_import(args: argparse.Namespace) -> int:
    from app.memory_import import import_memory_file
    from app.session import Session

    session = Session()
    if args.model:
        session.settings.model = args.model
    if args.device:
        session.settings.device = args.device
    row = import_memory_file(session, args.file, name=args.name)
    tokens = f"{row['tokens_done']:,} tokens" if row.get("tokens_done") else "no token count"
    print(f"Imported memory '{row['name']}' ({tokens}) for the model {row.get('backbone')}.")
    return 0
