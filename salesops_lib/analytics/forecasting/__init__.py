"""analytics/forecasting."""
