"""A worker for towpath's task queues, in Python: register functions by queue name, run.

It talks to towpath only over its HTTP API (httpx); it imports nothing of the server.
"""

from towpath.worker.client import LeaseLost, QueueClient, Task
from towpath.worker.worker import TaskContext, Worker

__all__ = ["LeaseLost", "QueueClient", "Task", "TaskContext", "Worker"]
