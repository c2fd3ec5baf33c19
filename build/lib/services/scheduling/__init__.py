"""The scheduling service: staff shifts, the on-duty roster, training and coaching (not built yet)."""
