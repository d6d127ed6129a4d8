"""The loyalty domain: entities, pure rules and use cases. Standard library only."""
