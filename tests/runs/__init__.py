"""Tests of salesops_lib.runs."""
