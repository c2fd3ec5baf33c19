"""The reports API: satisfaction and loss-prevention summaries and open signals, by region or store and time range."""
