"""Metric families, one module each; every function is pure and frame-agnostic.

The user-facing functions are re-exported from :mod:`pipelinekit`.
"""
