"""Ratio benchmarks: every figure is measured against a baseline in the same run (never a timing assertion)."""
