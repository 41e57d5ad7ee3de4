"""Tests of salesops_lib.analytics.forecasting."""
