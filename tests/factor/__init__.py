"""Tests of lowrank_la.factor."""
