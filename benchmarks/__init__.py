"""Benchmark scripts (not tests): run each with .venv/bin/python benchmarks/NAME.py."""
