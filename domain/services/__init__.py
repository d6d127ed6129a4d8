"""Use cases: async functions of (command, actor, unit of work, clock) that open the unit of work
and commit explicitly. They raise DomainError; the API turns it into data."""
