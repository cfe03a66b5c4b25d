"""Reproductions of the experiments of the papers lowrank_la implements.

Each module of this package registers one or more reproductions with :func:`register`. A reproduction names
its paper and the claim it checks, runs at three sizes (``smoke`` for the tests, ``quick`` for
``python -m lowrank_la reproduce``, ``full`` for the paper's sizes) and returns an :class:`ExperimentResult`
that says, honestly, whether the claim held.

=====================  =============================================================
:func:`registered`     all registered reproductions, by name
:func:`get`            one reproduction by name
:func:`run`            run one, optionally writing its CSV, PNG figure and markdown report
:func:`register`       decorator that adds a reproduction to the registry
=====================  =============================================================
"""

from ._registry import SIZES, Experiment, ExperimentResult, get, register, registered, run

__all__ = ["SIZES", "Experiment", "ExperimentResult", "get", "register", "registered", "run"]
