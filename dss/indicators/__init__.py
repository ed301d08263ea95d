"""Indicators computed from input data: local loads and the baseline."""
