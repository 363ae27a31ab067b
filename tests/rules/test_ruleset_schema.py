"""Tests for rules/ruleset.schema.json, the structural check of one rule-set file.

The schema is the first gate a rule set passes after YAML is read, so these tests pin two
things: a realistic rule set passes untouched, and each common mistake is rejected at the
JSON pointer of the offending value, which is where the diagnostic will point the author.
"""

import copy
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

# Read by path: the test must not depend on how (or whether) the package is installed.
SCHEMA_PATH = Path(__file__).parents[2] / "rules" / "ruleset.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)

HE = "https://transparency.meta.com/policies/community-standards/human-exploitation/"

# A rule set as the loader hands it to the schema: YAML dates already turned into ISO strings.
EXAMPLE: dict[str, Any] = {
    "ruleset": "meta.human-exploitation",
    "title": "Meta Community Standards: Human Exploitation",
    "platform": "meta",
    "surfaces": ["facebook", "instagram"],
    "kind": "policy",
    "version": "2022-12-07",
    "effective": {"from": "2022-12-07"},
    "language": 1,
    "sources": {
        "he": {
            "title": "Meta Community Standards: Human Exploitation",
            "url": HE,
            "retrieved": "2024-01-15",
            "publisher": "Meta",
            "note": "change log lists this version as 7 Dec 2022",
        },
    },
    "parameters": {
        "counting_window": {
            "unit": "days",
            "values": {"2019-09-03": 90},
            "note": "content older than this does not count towards a strike",
        },
        "page_violation_limit": {
            "unit": "count",
            "estimated": "no number is published; a reported internal threshold, unverified",
            "values": {"2019-09-03": 5},
        },
    },
    "lexicons": {
        "crossing": {
            "en": ["small boat", "jet boat", "crossing", "taxi to england"],
            "fr": ["traversée", "bateau", "passage"],
            "ar": ["عبور", "قارب", "تهريب"],
            "note": "collected from reported adverts, 2023",
        },
    },
    "rules": {
        "smuggling-offer": {
            "title": "Offering to smuggle people",
            "applies_to": "post",
            "cites": {
                "source": "he",
                "section": "Do not post",
                "says": "offers to provide or facilitate smuggling",
            },
            "when": (
                "post.signals.offers_crossing\n"
                "and (post.signals.price is known or any contact in post.signals.contacts)\n"
            ),
            "verdict": "violates",
            "confidence": 0.9,
            "severity": "severe",
            "message": "the post offers a crossing and says how to pay or make contact",
            "unless": {
                "awareness": {
                    "cites": {
                        "source": "he",
                        "section": "We allow",
                        "says": "condemning, raising awareness, reporting news",
                    },
                    "when": "post.context.news_reporting or post.context.condemnation",
                    "verdict": "allowed",
                    "priority": 1,
                },
            },
        },
        "page-dedicated-to-smuggling": {
            "applies_to": "page",
            "cites": [
                {
                    "source": "he",
                    "section": "Pages and groups",
                    "says": "removed for repeated violations or a violating purpose",
                    "url": HE + "#pages",
                },
            ],
            "when": (
                "page.signals.advertises_smuggling\n"
                "or count(p in page.posts\n"
                "         where p violates smuggling-offer\n"
                "           and p.posted within counting_window before request.submitted)\n"
                "   >= page_violation_limit\n"
            ),
            "verdict": "remove_page",
            "confidence": 0.7,
        },
    },
    "tests": [
        {
            "name": "two adverts in 90 days take the posts down, not the page",
            "evidence": "../../../fixtures/meta/page-two-adverts.json",
            "as_of": "2024-02-01",
            "expect": {
                "outcome": "posts_removed",
                "fired": ["smuggling-offer"],
                "not_fired": ["page-dedicated-to-smuggling", "awareness"],
                "thresholds": {"page-dedicated-to-smuggling": {"observed": 2, "required": 5}},
                "missing": ["post.signals.price"],
                "likelihood": {"min": 0.6, "max": 0.95},
            },
        },
    ],
}


def pointer(path: Iterable[str | int]) -> str:
    """Return the JSON pointer (RFC 6901) for a jsonschema error path."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def errors_of(document: dict[str, Any]) -> set[tuple[str, str]]:
    """Return each schema error as (JSON pointer of the value, failing keyword)."""
    return {
        (pointer(error.absolute_path), error.validator) for error in VALIDATOR.iter_errors(document)
    }


def changed(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Return a copy of EXAMPLE with one change applied, leaving EXAMPLE intact."""
    document = copy.deepcopy(EXAMPLE)
    change(document)
    return document


def misspell_verdict(document: dict[str, Any]) -> None:
    rule = document["rules"]["smuggling-offer"]
    rule["verdcit"] = rule.pop("verdict")


def upper_case_rule_id(document: dict[str, Any]) -> None:
    document["rules"]["Smuggling-Offer"] = document["rules"].pop("smuggling-offer")


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == "https://takedown.invalid/schema/ruleset/1.json"


def test_example_rule_set_is_valid() -> None:
    messages = [f"{pointer(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(EXAMPLE)]
    assert messages == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            misspell_verdict,
            {
                ("/rules/smuggling-offer", "additionalProperties"),
                ("/rules/smuggling-offer", "required"),
            },
            id="misspelt-key-in-rule",
        ),
        pytest.param(
            lambda d: d["rules"]["smuggling-offer"].update(verdict="banned"),
            {("/rules/smuggling-offer/verdict", "enum")},
            id="unknown-verdict",
        ),
        pytest.param(
            lambda d: d["rules"]["smuggling-offer"].update(confidence=1.5),
            {("/rules/smuggling-offer/confidence", "maximum")},
            id="confidence-above-one",
        ),
        pytest.param(
            lambda d: d["parameters"]["counting_window"].update(unit="weeks"),
            {("/parameters/counting_window/unit", "enum")},
            id="unknown-unit",
        ),
        pytest.param(
            lambda d: d["effective"].update({"from": "07/12/2022"}),
            {("/effective/from", "pattern"), ("/effective/from", "format")},
            id="date-not-iso",
        ),
        pytest.param(
            upper_case_rule_id,
            {("/rules", "pattern")},
            id="upper-case-rule-id",
        ),
        pytest.param(
            lambda d: d["sources"]["he"].pop("retrieved"),
            {("/sources/he", "required")},
            id="source-without-retrieved",
        ),
        pytest.param(
            lambda d: d.pop("rules"),
            {("", "required")},
            id="missing-rules",
        ),
        pytest.param(
            lambda d: d["parameters"]["page_violation_limit"].update(values={"2019-09-03": 2.5}),
            {("/parameters/page_violation_limit/values/2019-09-03", "type")},
            id="count-not-whole",
        ),
        pytest.param(
            lambda d: d["parameters"]["page_violation_limit"].update(unit="ratio"),
            {("/parameters/page_violation_limit/values/2019-09-03", "maximum")},
            id="ratio-above-one",
        ),
        pytest.param(
            lambda d: d["parameters"]["counting_window"].update(values={"2019-02-30": 90}),
            {("/parameters/counting_window/values", "format")},
            id="impossible-date-as-value-key",
        ),
        pytest.param(
            lambda d: d["parameters"].update(fine={"unit": "money", "values": {"2024-01-01": 500}}),
            {("/parameters/fine/values/2024-01-01", "type")},
            id="money-without-currency",
        ),
        pytest.param(
            lambda d: d["parameters"]["counting_window"].update(currency="GBP"),
            {("/parameters/counting_window/currency", "not")},
            id="currency-on-days",
        ),
        pytest.param(
            lambda d: d["rules"]["smuggling-offer"]["cites"].update(sayz="offers smuggling"),
            {("/rules/smuggling-offer/cites", "additionalProperties")},
            id="misspelt-key-in-citation",
        ),
        pytest.param(
            lambda d: d["rules"]["page-dedicated-to-smuggling"]["cites"][0].pop("says"),
            {("/rules/page-dedicated-to-smuggling/cites/0", "required")},
            id="citation-in-list-without-says",
        ),
        pytest.param(
            lambda d: d["tests"][0]["expect"]["thresholds"]["page-dedicated-to-smuggling"].update(
                observed=[1, 2, 3]
            ),
            {("/tests/0/expect/thresholds/page-dedicated-to-smuggling/observed", "maxItems")},
            id="observed-range-of-three",
        ),
        pytest.param(
            lambda d: d["lexicons"]["crossing"].update(EN=["boat"]),
            {("/lexicons/crossing", "additionalProperties")},
            id="bad-language-code",
        ),
    ],
)
def test_mistake_is_rejected_where_it_was_made(
    change: Callable[[dict[str, Any]], None], expected: set[tuple[str, str]]
) -> None:
    assert errors_of(changed(change)) == expected


def test_misspelt_key_is_named_in_the_message() -> None:
    [message] = [
        error.message
        for error in VALIDATOR.iter_errors(changed(misspell_verdict))
        if error.validator == "additionalProperties"
    ]
    assert "'verdcit'" in message


def add_extension_keys(document: dict[str, Any]) -> None:
    document["x-reviewed-by"] = "policy team"
    document["rules"]["smuggling-offer"]["x-ticket"] = 1234


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(add_extension_keys, id="x-keys-at-top-level-and-in-rule"),
        pytest.param(
            lambda d: d["parameters"].update(
                fine={"unit": "money", "currency": "GBP", "values": {"2024-01-01": 500}}
            ),
            id="money-with-parameter-currency",
        ),
        pytest.param(
            lambda d: d["parameters"].update(
                fine={"unit": "money", "values": {"2024-01-01": {"amount": 500, "currency": "EUR"}}}
            ),
            id="money-with-currency-per-value",
        ),
        pytest.param(
            lambda d: d["tests"][0]["expect"]["thresholds"]["page-dedicated-to-smuggling"].update(
                observed=[1, 3]
            ),
            id="observed-as-range",
        ),
        pytest.param(
            lambda d: d["tests"][0].update(evidence={"post": {"text": "boat to england"}}),
            id="inline-evidence",
        ),
    ],
)
def test_other_accepted_forms(change: Callable[[dict[str, Any]], None]) -> None:
    assert errors_of(changed(change)) == set()


def undescribed_properties(schema: Any, where: str = "#") -> Iterator[str]:
    """Yield the location of every named property that has no description.

    Conditional branches (if/then/else) are skipped: they restate properties only to narrow
    them, and editors show the description of the main entry.
    """
    if isinstance(schema, dict):
        for name, subschema in schema.get("properties", {}).items():
            if isinstance(subschema, dict) and "description" not in subschema:
                yield f"{where}/properties/{name}"
        for key, value in schema.items():
            if key not in ("if", "then", "else"):
                yield from undescribed_properties(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from undescribed_properties(item, f"{where}/{index}")


def test_every_property_has_a_description_for_editors() -> None:
    assert list(undescribed_properties(SCHEMA)) == []
