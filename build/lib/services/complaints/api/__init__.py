"""The complaints service's HTTP API (FastAPI, under /v1)."""
