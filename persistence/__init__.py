"""SQLAlchemy 2 persistence: typed tables, repositories and the unit of work, read models."""
