"""The analytics service: satisfaction and loss-prevention metrics for Prometheus and Grafana, and reports."""
