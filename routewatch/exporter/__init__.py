"""Prometheus exposition of routewatch's state: collectors that only read snapshots."""
