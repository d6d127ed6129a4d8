"""Only id texts the API emits are taken: base64 that re-encodes to exactly the text sent.

relay decodes ids leniently (stray characters are dropped, non-zero padding bits ignored), so
`TWVt!YmVyOjE=` and `TWVtYmVyOjE=` would name the same member and a client could send one object
under many ids. The check is on the text, so it happens before strawberry decodes it: a literal in
the document fails validation (cached with the document), a variable fails before execution. The
number inside is checked by api/types/ids.py.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    IntValueNode,
    OperationDefinitionNode,
    StringValueNode,
    ValidationRule,
    get_named_type,
)
from graphql.utilities import type_from_ast
from strawberry.extensions import SchemaExtension


def is_issued_id(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # not base64, not ASCII, or not UTF-8 inside
        return False
    type_name, colon, _ = decoded.partition(":")
    return bool(colon and type_name) and base64.b64encode(decoded.encode()).decode() == value


def _refusal(where: str) -> GraphQLError:
    return GraphQLError(f"{where} is not an id this API issued.", extensions={"code": "BAD_USER_INPUT"})


class IssuedIdLiterals(ValidationRule):
    """ID literals written in the document."""

    def enter_string_value(self, node: StringValueNode, *_args: object) -> None:
        self._check(node, node.value)

    def enter_int_value(self, node: IntValueNode, *_args: object) -> None:
        self._check(node, node.value)

    def _check(self, node: StringValueNode | IntValueNode, value: str) -> None:
        expected = self.context.get_input_type()
        if expected is not None and get_named_type(expected).name == "ID" and not is_issued_id(value):
            error = _refusal(f'"{value[:100]}"')
            self.report_error(GraphQLError(error.message, node, extensions=error.extensions))


class IssuedIdVariables(SchemaExtension):
    """ID values in the variables; listed after ValidationCache, whose errors this adds to."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, variables = context.graphql_document, context.variables
        if document is not None and variables:
            schema = context.schema._schema
            errors = [
                _refusal(f"Variable '${definition.variable.name.value}'" + (f" at {path}" if path else ""))
                for operation in document.definitions
                if isinstance(operation, OperationDefinitionNode)
                for definition in operation.variable_definitions or ()
                if (type_ := type_from_ast(schema, definition.type)) is not None
                for path in _bad_ids(type_, variables.get(definition.variable.name.value), "")  # type: ignore[arg-type]  # graphql-core types it loosely
            ]
            if errors:
                context.pre_execution_errors = [*(context.pre_execution_errors or []), *errors]
        yield


def _bad_ids(type_: GraphQLInputType, value: object, path: str) -> Iterator[str]:
    """The paths in `value` where an ID is not one the API issued (other mistakes are left to
    GraphQL's own coercion, which reports them)."""
    if isinstance(type_, GraphQLNonNull):
        yield from _bad_ids(type_.of_type, value, path)
    elif value is None:
        return
    elif isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            yield from _bad_ids(type_.of_type, item, f"{path}[{index}]")
    elif isinstance(type_, GraphQLInputObjectType):
        if isinstance(value, dict):
            for name, field in type_.fields.items():
                yield from _bad_ids(field.type, value.get(name), f"{path}.{name}")
    elif get_named_type(type_).name == "ID" and not is_issued_id(value):
        yield path
