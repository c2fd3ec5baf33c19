"""Decisions of the scheduling service: opening hours, shifts, the on-duty roster and who may see what; pure."""
