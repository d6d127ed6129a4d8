"""Segment rules as stored JSON and back: {"all": [...]}, {"any": [...]}, {"not": {...}}, or a
condition {"field", "op", "number" | "text" | "values", "category"?}."""

from __future__ import annotations

from typing import Any

from domain.merchants import MerchantCategory
from domain.segments import AllOf, AnyOf, Condition, Not, Operator, Rule, SegmentField


def rule_json(rule: Rule) -> dict[str, Any]:
    if isinstance(rule, AllOf):
        return {"all": [rule_json(r) for r in rule.rules]}
    if isinstance(rule, AnyOf):
        return {"any": [rule_json(r) for r in rule.rules]}
    if isinstance(rule, Not):
        return {"not": rule_json(rule.rule)}
    data: dict[str, Any] = {"field": rule.field.value, "op": rule.op.value}
    if rule.number is not None:
        data["number"] = rule.number
    if rule.text is not None:
        data["text"] = rule.text
    if rule.values:
        data["values"] = list(rule.values)
    if rule.category is not None:
        data["category"] = rule.category.value
    return data


def rule_from_json(data: dict[str, Any]) -> Rule:
    if "all" in data:
        return AllOf(tuple(rule_from_json(r) for r in data["all"]))
    if "any" in data:
        return AnyOf(tuple(rule_from_json(r) for r in data["any"]))
    if "not" in data:
        return Not(rule_from_json(data["not"]))
    category = data.get("category")
    return Condition(
        SegmentField(data["field"]),
        Operator(data["op"]),
        number=data.get("number"),
        text=data.get("text"),
        values=tuple(data.get("values", ())),
        category=None if category is None else MerchantCategory(category),
    )
