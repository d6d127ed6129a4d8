"""What the service says about itself: Prometheus metrics and structured logs. Imported by the API,
persistence and the scripts alike; never by the domain, which stays standard-library only."""
