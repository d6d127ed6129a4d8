"""Commands a person runs: serve, seed demo data, issue a token, export the schema."""
