"""The GraphQL API: strawberry schema, JWT auth, permissions, loaders and the Starlette app."""
