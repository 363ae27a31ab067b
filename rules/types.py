"""The types of the expression language.

A type says what a value is and, for numbers, in which unit: a count of posts, a
ratio, or a plain number that fits either. Money carries its currency at run time,
durations are whole days. `ANY` stands for a type that could not be worked out after
an error, so that one mistake is reported once and not again by every enclosing node.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Type", "BOOL", "NUMBER", "COUNT", "RATIO", "MONEY", "DURATION", "DATE", "TEXT",
           "ANY", "list_of", "record", "number", "describe", "UNIT_TYPES"]


@dataclass(frozen=True, slots=True)
class Type:
    kind: str  # bool number money duration date text list record any
    unit: str | None = None  # for numbers: count, ratio, or None for a plain number
    element: Type | None = None  # for lists
    name: str | None = None  # for records

    def __str__(self) -> str:
        return describe(self)

    @property
    def is_any(self) -> bool:
        return self.kind == "any"


BOOL = Type("bool")
NUMBER = Type("number")
COUNT = Type("number", unit="count")
RATIO = Type("number", unit="ratio")
MONEY = Type("money")
DURATION = Type("duration")
DATE = Type("date")
TEXT = Type("text")
ANY = Type("any")

# The type a parameter has for each unit a rule file may declare.
UNIT_TYPES = {"count": COUNT, "ratio": RATIO, "number": NUMBER, "days": DURATION,
              "money": MONEY}


def number(unit: str | None) -> Type:
    return Type("number", unit=unit)


def list_of(element: Type) -> Type:
    return Type("list", element=element)


def record(name: str) -> Type:
    return Type("record", name=name)


def describe(t: Type) -> str:
    """How a type is named in messages to a lawyer: 'a count', 'a list of posts'."""
    match t.kind:
        case "number":
            return {"count": "a count", "ratio": "a ratio"}.get(t.unit or "", "a number")
        case "list":
            inner = describe(t.element) if t.element else "values"
            return "a list of " + inner.removeprefix("a ").removeprefix("an ") + "s"
        case "record":
            return f"a {t.name}"
        case "money":
            return "an amount of money"
        case "any":
            return "an unknown type"
        case "bool":
            return "a condition (true or false)"
        case _:
            return f"a {t.kind}"
