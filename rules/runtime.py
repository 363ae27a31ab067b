"""The sealed runtime that evaluated conditions call: three-valued logic and the
operations on values that may be unknown.

Unknown is `None`. A number that is only partly known (a count over posts some of
which were not assessed) is an `Interval`. Logic is Kleene's: false and unknown is
false, true or unknown is true, not unknown is unknown. Any comparison or arithmetic
with an unknown operand is unknown, unless the bounds of an interval settle it:
[2, 5] >= 1 is true, [2, 5] >= 6 is false, [2, 5] >= 3 is unknown.

Both the compiled code and the reference interpreter use these functions, so the two
cannot disagree about what an operation means; they differ only in how they walk the
tree. Nothing here reads the clock, the environment or any file.
"""

from __future__ import annotations

import datetime
import math
import operator
from collections.abc import Iterable
from functools import lru_cache

from rules.nodes import Money

__all__ = ["Interval", "and3", "or3", "not3", "compare", "arith", "negate", "is_known",
           "member", "contains", "matches", "mentions", "within", "any3", "all3", "none3",
           "count3", "share3", "bounds", "fold"]


class Interval:
    """A number known only to lie between `lo` and `hi`, both included."""

    __slots__ = ("lo", "hi")

    def __init__(self, lo: float, hi: float):
        self.lo = lo
        self.hi = hi

    def __eq__(self, other) -> bool:
        return isinstance(other, Interval) and self.lo == other.lo and self.hi == other.hi

    def __hash__(self) -> int:
        return hash((self.lo, self.hi))

    def __repr__(self) -> str:
        return f"Interval({self.lo}, {self.hi})"

    def as_json(self) -> list:
        return [_plain(self.lo), _plain(self.hi)]


def _plain(x):
    if isinstance(x, float) and math.isinf(x):
        return None
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def exact_or_interval(lo, hi):
    return lo if lo == hi else Interval(lo, hi)


def bounds(value) -> tuple:
    """(lo, hi) of a known number or an interval."""
    if type(value) is Interval:
        return value.lo, value.hi
    return value, value


# Logic

def not3(a):
    return None if a is None else not a


def and3(a, b):
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def or3(a, b):
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def is_known(value) -> bool:
    return value is not None and type(value) is not Interval


# Comparison

_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compare(op: str, a, b):
    if a is None or b is None:
        return None
    if type(a) is Interval or type(b) is Interval:
        return _compare_bounds(op, bounds(a), bounds(b))
    if type(a) is Money:
        if type(b) is not Money or a.currency != b.currency:
            return None  # no exchange rates: amounts in two currencies never compare
        a, b = a.amount, b.amount
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        equal = _sequences_equal(a, b)
        return equal if op == "==" or equal is None else not equal
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    return _ORDER[op](a, b)


def _sequences_equal(a, b):
    """Item by item, in Kleene's logic: an unknown item leaves equality unknown."""
    if len(a) != len(b):
        return False
    return all3(None if x is None or y is None else x == y for x, y in zip(a, b, strict=True))


def _compare_bounds(op: str, a: tuple, b: tuple):
    (alo, ahi), (blo, bhi) = a, b
    if op in ("==", "!="):
        if alo == ahi == blo == bhi:
            result = True
        elif ahi < blo or bhi < alo:
            result = False
        else:
            return None
        return result if op == "==" else not result
    if op in ("<", "<="):
        (alo, ahi), (blo, bhi) = (blo, bhi), (alo, ahi)
        op = ">" if op == "<" else ">="
    # a > b or a >= b
    strict = op == ">"
    if (alo > bhi) if strict else (alo >= bhi):
        return True
    if (ahi <= blo) if strict else (ahi < blo):
        return False
    return None


# Arithmetic

_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def arith(op: str, a, b):
    if a is None or b is None:
        return None
    if type(a) is Interval or type(b) is Interval:
        return _arith_bounds(op, bounds(a), bounds(b))
    if type(a) is Money or type(b) is Money:
        return _arith_money(op, a, b)
    if op == "/":
        if isinstance(b, datetime.timedelta):
            return None
        if b == 0:
            return None
        if isinstance(a, datetime.timedelta):
            return datetime.timedelta(days=a.days / b)
    if op == "*" and isinstance(b, datetime.timedelta):
        a, b = b, a
    try:
        return _ARITH[op](a, b)
    except OverflowError:
        return None


def _arith_bounds(op: str, a: tuple, b: tuple):
    (alo, ahi), (blo, bhi) = a, b
    if op == "+":
        return exact_or_interval(alo + blo, ahi + bhi)
    if op == "-":
        return exact_or_interval(alo - bhi, ahi - blo)
    if op == "/":
        if blo <= 0 <= bhi:
            return None
        candidates = [x / y for x in (alo, ahi) for y in (blo, bhi)]
    else:
        candidates = [_mul(x, y) for x in (alo, ahi) for y in (blo, bhi)]
    return exact_or_interval(min(candidates), max(candidates))


def _mul(x, y):
    if x == 0 or y == 0:
        return 0  # 0 times an unbounded side is 0, not nan
    return x * y


def _arith_money(op: str, a, b):
    if type(a) is Money and type(b) is Money:
        if a.currency != b.currency or op not in "+-":
            return None
        return Money(_ARITH[op](a.amount, b.amount), a.currency)
    if op == "/" and type(a) is Money:
        return None if b == 0 else Money(a.amount / b, a.currency)
    if op == "*":
        money, factor = (a, b) if type(a) is Money else (b, a)
        return Money(money.amount * factor, money.currency)
    return None


def negate(a):
    if a is None:
        return None
    if type(a) is Interval:
        return exact_or_interval(-a.hi, -a.lo)
    if type(a) is Money:
        return Money(-a.amount, a.currency)
    return -a


# Collections and text

# Values whose equality `compare` decides in three values (bounds, currencies).
_COMPARED = (Interval, Money)


def member(element, collection):
    """`element in collection`, Kleene-or over the members' equality: `x in [a, b]`
    says what `x == a or x == b` says, for counts known within bounds and for amounts
    in other currencies too."""
    if element is None or collection is None:
        return None
    saw_unknown = False
    for item in collection:
        if type(element) in _COMPARED or type(item) in _COMPARED:
            equal = compare("==", element, item)
        else:
            equal = None if item is None else item == element
        if equal is True:
            return True
        if equal is None:
            saw_unknown = True
    return None if saw_unknown else False


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Case folding for `contains`: casefold is stronger than lower() (ß -> ss)."""
    return text.casefold()


def contains(text, needle):
    if text is None or needle is None:
        return None
    folded = fold(needle)
    if isinstance(text, str):
        return folded in fold(text)
    return any3((None if item is None else fold(item) == folded) for item in text)


def matches(pattern, text):
    """`pattern` is a `rules.checker.Matcher`; lists of texts match if any item does."""
    if text is None:
        return None
    if isinstance(text, str):
        return pattern.is_found(text)
    return any3((None if item is None else pattern.is_found(item)) for item in text)


def mentions(lexicon, text):
    if text is None:
        return None
    if isinstance(text, str):
        return lexicon.matches(text)
    return any3(lexicon.matches(item) for item in text)


def within(subject, duration, direction: str, anchor):
    if subject is None or duration is None or anchor is None:
        return None
    if direction == "before":
        return anchor - duration <= subject <= anchor
    return anchor <= subject <= anchor + duration


# Quantifiers: each takes the three-valued results for the members of a collection.

def any3(results: Iterable) -> bool | None:
    saw_unknown = False
    for r in results:
        if r is True:
            return True
        if r is None:
            saw_unknown = True
    return None if saw_unknown else False


def all3(results: Iterable) -> bool | None:
    saw_unknown = False
    for r in results:
        if r is False:
            return False
        if r is None:
            saw_unknown = True
    return None if saw_unknown else True


def none3(results: Iterable) -> bool | None:
    return not3(any3(results))


def count3(results: Iterable):
    """How many results are true: an int, or an Interval when some are unknown."""
    known = unknown = 0
    for r in results:
        if r is True:
            known += 1
        elif r is None:
            unknown += 1
    return known if not unknown else Interval(known, known + unknown)


def share3(results: Iterable):
    """The share of true results; the share of an empty collection is 0."""
    known = unknown = total = 0
    for r in results:
        total += 1
        if r is True:
            known += 1
        elif r is None:
            unknown += 1
    if total == 0:
        return 0.0
    if not unknown:
        return known / total
    return Interval(known / total, (known + unknown) / total)


UNKNOWN_COUNT = Interval(0, math.inf)
UNKNOWN_SHARE = Interval(0.0, 1.0)
