"""GraphQL object types, built from domain objects; the schema never follows the tables."""
