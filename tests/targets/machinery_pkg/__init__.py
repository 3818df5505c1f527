"""A package run with `python -m machinery_pkg`: runpy imports it, then
runs its __main__."""
