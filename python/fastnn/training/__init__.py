"""fastnn.training (placeholder until implemented)."""
