"""The schema's conventions, checked by walking it: each mutation has its own input and payload type
named for it, everything a client sees is described (types, fields, arguments, input fields, enum
values), every root field and mutation is guarded, and a guarded field names who may call it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)
from strawberry.permission import BasePermission
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from api.permissions import IsAuthenticated
from api.schema import build_schema

BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}

# Types strawberry generates whose descriptions are strawberry's, not ours: relay's Connection and Edge
# types (one per node type: "A connection to a list of items.") and the Node interface and PageInfo
# come described. Nothing needs excusing today; a generated type that comes without a description
# would be listed here, with why.
UNDESCRIBABLE: dict[str, str] = {}


def schema() -> GraphQLSchema:
    return build_schema()._schema


def own_types(graphql: GraphQLSchema) -> Iterator[GraphQLNamedType]:
    for name, named in sorted(graphql.type_map.items()):
        if name.startswith("__") or name in BUILT_IN_SCALARS or name in UNDESCRIBABLE:
            continue
        yield named


def undescribed(graphql: GraphQLSchema) -> list[str]:
    """Every type, field, argument, input field and enum value without a description, by its schema
    path."""
    missing: list[str] = []
    for named in own_types(graphql):
        if not named.description:
            missing.append(named.name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                if not field.description:
                    missing.append(f"{named.name}.{field_name}")
                missing.extend(
                    f"{named.name}.{field_name}({arg_name})"
                    for arg_name, arg in field.args.items()
                    if not arg.description
                )
        elif isinstance(named, GraphQLInputObjectType):
            missing.extend(
                f"{named.name}.{field_name}"
                for field_name, field in named.fields.items()
                if not field.description
            )
        elif isinstance(named, GraphQLEnumType):
            missing.extend(
                f"{named.name}.{value_name}"
                for value_name, value in named.values.items()
                if not value.description
            )
    return missing


def pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def input_type(mutation: GraphQLField) -> str | None:
    argument: GraphQLArgument | None = mutation.args.get("input")
    return None if argument is None else get_named_type(argument.type).name


def test_each_mutation_has_its_own_input_and_payload_named_for_it() -> None:
    mutations = schema().mutation_type
    assert mutations is not None
    wrong: list[str] = []
    users: dict[str, list[str]] = {}
    for name, mutation in mutations.fields.items():
        expected_input, expected_payload = f"{pascal(name)}Input", f"{pascal(name)}Payload"
        given_input, payload = input_type(mutation), get_named_type(mutation.type).name
        if list(mutation.args) != ["input"]:
            wrong.append(f"{name} takes {list(mutation.args)}, not one argument `input`")
        if given_input != expected_input:
            wrong.append(f"{name} takes {given_input}, not {expected_input}")
        if payload != expected_payload:
            wrong.append(f"{name} answers {payload}, not {expected_payload}")
        for type_name in (given_input, payload):
            if type_name is not None:
                users.setdefault(type_name, []).append(name)
    shared = {type_name: names for type_name, names in users.items() if len(names) > 1}
    assert not shared, f"mutations sharing a type: {shared}"
    assert not wrong, "\n".join(wrong)


def test_every_type_field_argument_input_field_and_enum_value_is_described() -> None:
    missing = undescribed(schema())
    assert not missing, f"{len(missing)} parts of the schema have no description:\n" + "\n".join(missing)


def test_the_walk_reports_each_kind_of_undescribed_part() -> None:
    """The walk itself can fail: strip one description of each kind from a fresh schema and it names
    each of them by its path."""
    graphql = schema()
    query, mutation = graphql.query_type, graphql.mutation_type
    assert query is not None
    assert mutation is not None
    status = graphql.type_map["MemberStatus"]
    member_filter = graphql.type_map["MemberFilter"]
    assert isinstance(status, GraphQLEnumType)
    assert isinstance(member_filter, GraphQLInputObjectType)
    member_filter.description = None
    status.values["LOCKED"].description = None
    query.fields["members"].args["first"].description = None
    mutation.fields["adjustPoints"].description = None
    member_filter.fields["status"].description = None

    assert undescribed(graphql) == [
        "MemberFilter",
        "MemberFilter.status",
        "MemberStatus.LOCKED",
        "Mutation.adjustPoints",
        "Query.members(first)",
    ]


def guard_of(field: GraphQLField) -> list[type[BasePermission]]:
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField):
        return []
    return list(definition.permission_classes)


def roles_named_by(guard: list[type[BasePermission]]) -> list[str]:
    """The role names (ADMIN, MEMBER ...) a guarded field's description must give; for a field open
    to any caller with a token, the word "authenticated"."""
    roles = sorted({role.name for check in guard for role in getattr(check, "roles", ())})
    if roles:
        return roles
    return ["authenticated"] if IsAuthenticated in guard else []


def _flags(word: str) -> re.RegexFlag:
    return re.IGNORECASE if word == "authenticated" else re.NOFLAG


def test_guarded_fields_and_mutations_name_the_roles_that_may_call_them() -> None:
    wrong: list[str] = []
    checked = 0
    for named in own_types(schema()):
        if not isinstance(named, GraphQLObjectType):
            continue
        for name, field in named.fields.items():
            needed = roles_named_by(guard_of(field))
            checked += bool(needed)
            description = field.description or ""
            # Role names in capitals, as the API's tokens and errors spell them.
            absent = [r for r in needed if not re.search(rf"\b{r}\b", description, _flags(r))]
            if absent:
                wrong.append(f"{named.name}.{name} does not name {absent}: {description!r}")
    assert checked > 40, "the walk found too few guarded fields: permission_classes were not read"
    assert not wrong, "\n".join(wrong)


def test_every_root_field_and_mutation_is_guarded_so_its_description_names_who_may_call_it() -> None:
    """An unguarded root field would escape the test above: open to callers without a token, and
    naming no role."""
    graphql = schema()
    roots = [root for root in (graphql.query_type, graphql.mutation_type, graphql.subscription_type) if root]
    unguarded = [
        f"{root.name}.{name}"
        for root in roots
        for name, field in root.fields.items()
        if not roles_named_by(guard_of(field))
    ]
    assert sum(len(root.fields) for root in roots) > 40
    assert unguarded == []
