"""The durable execution engine: claiming work, running steps, moving runs forward."""
