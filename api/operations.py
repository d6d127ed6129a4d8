"""Which operation of a document runs: the GraphQL spec's rule, which strawberry does not apply."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension


class RequireOperationName(SchemaExtension):
    """A document with several operations must say which to run (`operationName`); strawberry would
    silently run the first. Listed after ValidationCache, whose errors this adds to."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # The name the client gave: `operation_name` falls back to the first operation's name.
        given = context._provided_operation_name
        if document is not None and given is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                error = GraphQLError(
                    "The document holds several operations: name the one to run in operationName.",
                    extensions={"code": "BAD_USER_INPUT"},
                )
                context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield
