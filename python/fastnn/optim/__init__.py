"""fastnn.optim (placeholder until implemented)."""
