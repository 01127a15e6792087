"""fastnn.data (placeholder until implemented)."""
