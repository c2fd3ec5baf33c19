"""The scheduling service's HTTP API."""
