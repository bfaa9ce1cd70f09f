"""Benchmark scripts, run as files (python bench/run_all.py); they import each other as
bench.*, which this file makes a regular package. Not installed (pyproject includes only the
product packages)."""
