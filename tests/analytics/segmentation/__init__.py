"""Tests of salesops_lib.analytics.segmentation."""
