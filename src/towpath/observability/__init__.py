"""What an operator sees of a process: JSON logs, Prometheus metrics."""
