"""Tests of salesops_lib.analytics.planning."""
