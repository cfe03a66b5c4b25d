"""Hypothesis fuzz suite over every public callable of lowrank_la (issue 15)."""
