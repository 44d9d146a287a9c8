"""A bridge between a towpath queue and Kafka: leases the queue's tasks, publishes them to a
tasks topic, and answers them from a results topic, as any worker would over HTTP."""
