"""Tests of salesops_lib.reports."""
