"""Tests of salesops_lib.data."""
