"""analytics/performance."""
