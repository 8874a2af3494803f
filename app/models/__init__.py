"""Models on this computer: check a model setting, find the models a person already has, and
say what each one is and whether Locas fits it. GUI-free; the CLI and the GUI call these."""

from .check import model_problem

__all__ = ["model_problem"]
