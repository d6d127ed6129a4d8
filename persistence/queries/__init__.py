"""Read side for the API. Every call opens its own short connection: strawberry runs each
DataLoader batch as its own task, and one connection must not be shared between tasks."""
