"""Runs that start themselves: incoming webhooks, their signatures and delivery log."""
