"""`locas models`: the models already on this computer, what each is, and whether Locas fits it.

Never downloads; ``--use N`` saves the N-th listed model in the settings (refused, with the
reason, when it does not fit).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models", help="list the models already on this computer and whether Locas fits them",
        description="Looks in the Hugging Face cache, LM Studio's, GPT4All's and Ollama's model "
                    "folders and installed model packages; never downloads.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="also describe these folders or .gguf files")
    p.add_argument("--use", type=int, metavar="N", help="save model number N (from the list) in the settings")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)


def cmd_models(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from app.errors import UserError
    from app.models.discover import iter_models, setting_for
    from app.models.inspect import inspect_model
    from app.settings import load_settings, save_settings

    found = itertools.chain((inspect_model(p) for p in args.paths), iter_models())
    if args.use is None and not args.json:  # each model printed as soon as it is described
        return _print_models(found)
    models = list(found)
    if args.use is not None:
        if not 1 <= args.use <= len(models):
            raise UserError(f"There is no model number {args.use}; 'locas models' lists {len(models)}.")
        info = models[args.use - 1]
        if info.problem:
            raise UserError(f"Not chosen: {info.problem}")
        settings = load_settings()
        settings.model = setting_for(info)
        save_settings(settings)
        print(f"The model is now {info.name} ({settings.model}).")
        return 0
    print(json.dumps([asdict(m) for m in models], indent=2, default=str))
    return 0


def _print_models(models) -> int:
    from app import units

    i = 0
    for i, m in enumerate(models, 1):
        fit = m.method if m.fits else "does not fit"
        print(f"{i:>2}. {m.name}  [{m.source}]  {units.size(m.size_bytes, empty='–')}  "
              f"{m.architecture or '?'} {units.count(m.parameters, empty='–')} parameters {m.weights or ''}  "
              f"{fit}  needs {units.size(m.memory_bytes, empty='–')} to run")
        print(f"    {m.path}")
        if m.problem:
            print(f"    {m.problem}")
        sys.stdout.flush()
    if not i:
        print("No models found. Choose a model folder or .gguf file: locas models PATH")
        return 0
    print("Choose one with: locas models --use N")
    return 0
