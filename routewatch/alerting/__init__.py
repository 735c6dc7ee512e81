"""Alert rules written once (``rules``) and rendered for Prometheus and for Grafana."""
