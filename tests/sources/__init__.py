"""Tests of salesops_lib.sources."""
