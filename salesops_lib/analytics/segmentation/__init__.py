"""analytics/segmentation."""
