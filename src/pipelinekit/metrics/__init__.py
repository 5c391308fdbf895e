"""Metric families, one module each; every function is pure and frame-agnostic."""
