"""fastnn.datasets (placeholder until implemented)."""
