"""The two settings specs: what a memory is (MemorySpec) and how it is trained (TrainingSpec).

Every memorization setting is declared here, once, with its default and a ``Knob`` in the
field's metadata (help, range, choices). The command-line flags and the benchmarks are built
from these fields (``knobs``, ``add_flags``), and an app builds its forms from them too, so a
new setting or a new default is one edit here (plus how the app words it).

Both specs are frozen (change one with ``dataclasses.replace``) and versioned: a spec written
by an older Locas (settings.json, a memory file, a library row) goes through ``from_dict``,
which migrates it. Version 1 of MemorySpec replaced ``tau_scale`` (a multiplier on the method's
``mean value norm / r``, tuned at r = 64) by ``output_scale`` (see ``MemorySpec``).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, NamedTuple, TypeVar

INITIALIZERS = ("topk", "bottomk", "random", "gaussian")
METHODS = ("locas-glu",)
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class Knob:
    """A user-facing setting: what it means and the values it takes (a command-line flag's help
    and choices; how an app shows it is the app's business)."""

    help: str  # --help text (and a form's tooltip)
    low: float | None = None  # smallest accepted value (numbers)
    high: float | None = None  # largest sensible value (numbers)
    choices: tuple[str, ...] = ()  # the accepted values (text)


def _knob(default: Any, **knob: Any) -> Any:
    return field(default=default, metadata={"knob": Knob(**knob)})


T = TypeVar("T", "MemorySpec", "TrainingSpec")


@dataclass(frozen=True)
class MemorySpec:
    """What a memory is: fixed once the memory exists (its tensors' shapes and scale).

    ``output_scale`` sets the memory's output scale tau per layer as ``output_scale`` times the
    backbone's mean value-vector norm (``mean_j ||W_down[:, j]||``), whatever the rank. The
    method's own tau is that norm divided by r (docs/locas-method.md); the sweep in
    docs/benchmarks.md tuned a multiplier of 64 on it at r = 64, i.e. exactly the mean norm, so
    ``output_scale = 1.0`` keeps that tuned tau at r = 64 bit for bit, and another rank now gets
    the same tau instead of 64 / r times it (four times at r = 16). The method's own tau at rank
    r is ``output_scale = 1 / r``. Older files stored ``tau_scale``; ``from_dict`` converts it
    as ``tau_scale / rank``, which gives every old memory exactly its old tau.
    """

    VERSION = 1

    method: str = field(default="locas-glu")  # the variant; Locas-MLP has its own config
    rank: int = _knob(64, low=1, high=4096,
                      help="Memory width r: a wider memory holds more and costs more "
                           "(3 x layers x hidden size x r parameters)")
    init: str = _knob("topk", choices=INITIALIZERS,
                      help="How the memory starts: topk clones the model's most active FFN slots")
    output_scale: float = _knob(1.0, low=0.001, high=64.0,
                                help="The memory's output scale, in units of the model's mean "
                                     "FFN value norm; the same at every rank")
    layers: str = _knob("all",
                        help="Layers carrying memory: 'all', 'auto' (all but the lowest sixth), a "
                             "range such as 15-29 or a list such as 0,2,4")
    clip: bool = True  # weight-norm clipping after each step (the method's safeguard)
    seed: int = 0  # for the random / gaussian initializers and the first random keys

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Unknown memory method '{self.method}'; this memory is {METHODS[0]}.")
        if not isinstance(self.rank, int) or self.rank < 1:
            raise ValueError(f"The rank must be a whole number of 1 or more, not {self.rank!r}.")
        if self.init not in INITIALIZERS:
            raise ValueError(
                f"Unknown initializer '{self.init}'; choose one of {', '.join(INITIALIZERS)}."
            )
        if not (isinstance(self.output_scale, (int, float)) and math.isfinite(self.output_scale)
                and self.output_scale > 0):
            raise ValueError(f"The output scale must be a number above 0, not {self.output_scale!r}.")
        object.__setattr__(self, "output_scale", float(self.output_scale))
        object.__setattr__(self, "layers", layer_text(self.layers))

    def layer_indices(self, num_layers: int) -> list[int] | None:
        """The layers this spec puts memory on, for a model of ``num_layers``; None = all."""
        return parse_layers(self.layers, num_layers)


@dataclass(frozen=True)
class TrainingSpec:
    """How a memory is trained: may change from one run to the next (a checkpoint insists on
    the same chunk, context, steps and precision to resume)."""

    VERSION = 1

    lr: float = _knob(6e-3, low=1e-5, high=1.0,
                      help="AdamW learning rate; 6e-3 is the best of the sweep in "
                           "docs/benchmarks.md at output scale 1")
    chunk: int = _knob(256, low=1, high=8192,
                       help="Tokens trained on per step")
    context: int = _knob(256, low=0, high=8192,
                         help="Preceding tokens that condition a chunk but are not trained on")
    steps: int = _knob(1, low=1, high=64,
                       help="Optimizer steps per chunk; the first step's forward is the chunk's score")
    checkpoint_every: int = _knob(8, low=1, high=10_000,
                                  help="Chunks between checkpoints: the most a crash can lose")
    precision: str = _knob("auto", choices=PRECISIONS,
                           help="Arithmetic of the model while memorizing: auto is bf16 where "
                                "the GPU or CPU computes it natively, else fp32; a memory keeps "
                                "the one it was made with")
    weight_decay: float = 0.0  # the memory is norm-clipped already; decay would erase it
    betas: tuple[float, float] = (0.9, 0.999)

    def __post_init__(self) -> None:
        for name, low in (("chunk", 1), ("context", 0), ("steps", 1), ("checkpoint_every", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise ValueError(f"The setting '{name}' must be a whole number of {low} or more, "
                                 f"not {value!r}.")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr >= 0):
            raise ValueError(f"The learning rate must be a number of 0 or more, not {self.lr!r}.")
        if self.precision not in PRECISIONS:
            raise ValueError(f"The precision '{self.precision}' is not one of {', '.join(PRECISIONS)}.")
        object.__setattr__(self, "lr", float(self.lr))
        object.__setattr__(self, "betas", tuple(self.betas))

    def precision_on(self, device_type: str, weights_bf16: bool = False) -> str:
        """``bf16`` or ``fp32``: the arithmetic the memorizer runs on a device of this type.
        ``auto`` is bf16 on CUDA, and on any device whose model weights are already held in bf16:
        on a CPU, bf16 pays only with bf16 weights (autocast over fp32 weights casts them at every
        call), and whoever loads the model chooses those (the app with
        locas_engine.precision.resolve_precision, bf16 on CPUs with native bf16). So ``auto``
        agrees with the app's choice however the engine is called."""
        if self.precision == "auto":
            return "bf16" if device_type == "cuda" or weights_bf16 else "fp32"
        return self.precision

    def recorded(self, device_type: str, weights_bf16: bool = False) -> dict[str, Any]:
        """The spec as a memory and its checkpoint record it, ``precision`` resolved."""
        out = to_dict(self)
        out["precision"] = self.precision_on(device_type, weights_bf16)
        return out


SPECS: tuple[type, ...] = (MemorySpec, TrainingSpec)


class Specs(NamedTuple):
    """The pair a memorization is made with: what the memory is, and how it is trained. Built
    once (a form, command-line flags, a memory's files), changed only by ``dataclasses.replace``
    on one of its specs, and handed as it is to the memorizer."""

    memory: MemorySpec
    training: TrainingSpec

    def with_values(self, values: Mapping[str, Any]) -> Specs:
        """Each spec with those of ``values`` that are its fields (``dataclasses.replace``;
        other keys are ignored). ValueError (a sentence) for a value a spec refuses."""
        return Specs(with_changes(self.memory, values), with_changes(self.training, values))


# --- fields and their knobs ------------------------------------------------------------------
def field_names(spec: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(spec))


def knobs(spec: type) -> list[tuple[str, Knob, Any]]:
    """(field name, knob, default) of every user-facing setting of ``spec``, in order."""
    return [(f.name, f.metadata["knob"], f.default) for f in fields(spec) if "knob" in f.metadata]


def all_knobs() -> list[tuple[str, Knob, Any]]:
    """Every user-facing setting of both specs: the memory's shape first, then its training."""
    return [k for spec in SPECS for k in knobs(spec)]


# --- plain dicts (JSON) -------------------------------------------------------------------
def to_dict(spec: MemorySpec | TrainingSpec) -> dict[str, Any]:
    """The spec as JSON-ready data, with its version."""
    out: dict[str, Any] = {f.name: getattr(spec, f.name) for f in fields(spec)}
    if "betas" in out:
        out["betas"] = list(out["betas"])
    out["version"] = spec.VERSION
    return out


def migrate(values: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as any version wrote them, with old keys turned into today's.

    ``tau_scale`` (x the method's tau, which is ``mean norm / r``) becomes ``output_scale =
    tau_scale / rank``: the same tau. ``autocast`` (True / False / None) becomes ``precision``.
    """
    out = dict(values)
    if "tau_scale" in out:
        tau_scale = out.pop("tau_scale")
        if "output_scale" not in out and isinstance(tau_scale, (int, float)):
            rank = out.get("rank", MemorySpec.rank)
            out["output_scale"] = tau_scale / rank if isinstance(rank, int) and rank > 0 else tau_scale
    if "autocast" in out:
        autocast = out.pop("autocast")
        out.setdefault("precision", "auto" if autocast is None else "bf16" if autocast else "fp32")
    return out


def from_dict(spec: type[T], values: Mapping[str, Any], **changes: Any) -> T:
    """A spec from stored values (any version; unknown keys ignored), then ``changes``.

    Raises ValueError with a sentence for a value the spec does not accept.
    """
    known = set(field_names(spec))
    data = {k: v for k, v in migrate(values).items() if k in known}
    data.update(changes)
    return spec(**data)


def split(values: Mapping[str, Any]) -> Specs:
    """Both specs from one flat mapping of settings (a library row, an old settings file, a
    benchmark's row)."""
    return Specs(from_dict(MemorySpec, values), from_dict(TrainingSpec, values))


def flat(memory: MemorySpec, training: TrainingSpec) -> dict[str, Any]:
    """Both specs as one flat dict of their fields (no versions), for showing them, keying
    measured speeds by them, or a benchmark's rows."""
    out = {f.name: getattr(memory, f.name) for f in fields(memory)}
    out.update({f.name: getattr(training, f.name) for f in fields(training)})
    return out


def with_changes(spec: T, values: Mapping[str, Any]) -> T:
    """``spec`` with those of ``values`` that are its fields (other keys are ignored)."""
    known = set(field_names(type(spec)))
    return replace(spec, **{k: v for k, v in values.items() if k in known})


# --- layers -------------------------------------------------------------------------------
def layer_text(layers: str | Iterable[int] | None) -> str:
    """A layer choice as text: None -> ``all``; ``[0, 2, 3]`` -> ``0,2,3``; text is kept."""
    if layers is None:
        return "all"
    if isinstance(layers, str):
        return layers.strip().lower() or "all"
    return ",".join(str(i) for i in sorted({int(i) for i in layers}))


def parse_layers(spec: str | Sequence[int] | None, num_layers: int) -> list[int] | None:
    """Which layers carry memory: ``all`` -> None (every layer); ``15-29`` / ``0,4,8-11`` -> a list.

    Raises ValueError with a sentence for the user when the spec is malformed or names a layer
    the model does not have.
    """
    spec = layer_text(spec)
    if spec == "all":
        return None
    layers: set[int] = set()
    try:
        for part in spec.split(","):
            if "-" in part:
                lo, hi = part.split("-", 1)
                layers.update(range(int(lo), int(hi) + 1))
            else:
                layers.add(int(part))
    except ValueError:
        raise ValueError(
            f"The layer choice '{spec}' is not 'all', a range like 15-29 or a list like 0,2,4."
        ) from None
    bad = sorted(i for i in layers if not 0 <= i < num_layers)
    if bad or not layers:
        raise ValueError(f"The model has layers 0 to {num_layers - 1}; '{spec}' does not fit them.")
    return sorted(layers)


# --- command-line flags -------------------------------------------------------------------
def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_flags(parser: argparse.ArgumentParser, spec: type, defaults: Any = None,
              many: bool = False, only: Iterable[str] | None = None) -> None:
    """One flag per knob of ``spec`` (``--output-scale``, ``--lr``, ...), typed and described
    from the field. ``defaults``: an object whose attributes give the defaults (None: no
    default, so an unset flag reads None). ``many``: each flag takes a list (a sweep).
    ``--tau-scale`` (the old multiplier on the method's tau) is kept beside ``--output-scale``;
    ``tau_scales`` converts it once the rank is known."""
    wanted = set(only) if only is not None else None
    for name, knob, default in knobs(spec):
        if wanted is not None and name not in wanted:
            continue
        kind = type(default)
        kw: dict[str, Any] = {"help": knob.help, "dest": name}
        if knob.choices:
            kw["choices"] = knob.choices
        elif kind in (int, float):
            kw["type"] = kind
        if many:
            kw["nargs"] = "+"
        value = getattr(defaults, name) if defaults is not None else None
        kw["default"] = [value] if many and value is not None else value
        parser.add_argument(flag_name(name), **kw)
        if name == "output_scale":
            parser.add_argument("--tau-scale", type=float, nargs="+" if many else None,
                                dest="tau_scale", default=None,
                                help="the old form of --output-scale: a multiplier on the "
                                     "method's tau (mean value norm / rank); 64 at rank 64 is "
                                     "output scale 1")


def tau_scales(args: argparse.Namespace, rank: int = MemorySpec.rank) -> None:
    """Turn a given ``--tau-scale`` into ``output_scale`` (per rank: ``tau_scale / rank``), in
    place, for parsers made by ``add_flags`` with ``MemorySpec``; ``rank`` when no ``--rank``
    was given (an existing memory's). With a list of ranks (a sweep), ``output_scale`` becomes
    a ``{rank: [scales]}`` mapping read by ``scales_for``."""
    tau = getattr(args, "tau_scale", None)
    if tau is None:
        return
    rank = args.rank if getattr(args, "rank", None) is not None else rank
    if isinstance(rank, list):
        args.output_scale = {r: [t / r for t in tau] for r in rank}
    elif isinstance(tau, list):
        args.output_scale = [t / rank for t in tau]
    else:
        args.output_scale = tau / rank


def scales_for(output_scale: Any, rank: int) -> list[float]:
    """The output scales a sweep tries at ``rank`` (see ``tau_scales``)."""
    if isinstance(output_scale, dict):
        return output_scale[rank]
    return list(output_scale)
