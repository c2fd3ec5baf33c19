"""The scheduling service: sites, the staff directory, shifts and the on-duty roster."""
