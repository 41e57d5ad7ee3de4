"""Tests of salesops_lib.analytics.quality."""
