"""Tests of salesops_lib.analytics.performance."""
