"""Tests of salesops_lib.core."""
