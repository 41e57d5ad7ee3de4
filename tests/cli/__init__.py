"""Tests of salesops_lib.cli."""
