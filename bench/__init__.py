"""Benchmarks for Secure Base: `make bench` (= `python -m bench`) runs them all, offline.

Every figure is measured next to a baseline run in the same run, and reported as a ratio.
Not part of `make test`; tests/test_bench_smoke.py only checks that each code path runs.
"""
