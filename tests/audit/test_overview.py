"""The report over many cases, on the fixtures and the sample responses."""

import pytest

from engine.audit.overview import choose_period, overview, period_of, platforms_named
from engine.audit.store import open_store


@pytest.fixture(scope="module")
def model(sample_db):
    with open_store(sample_db, create=False) as store:
        return overview(store.cases(), store.responses(), store.disputes())


def test_counts_add_up(model):
    totals = model["totals"]
    assert totals["flagged"] == len(model["cases"])
    assert totals["closed"] + totals["pending"] == totals["flagged"]
    assert totals["closed"] == sum(totals[o] for o in ("page_removed", "posts_removed",
                                                       "geo_blocked", "no_action"))
    assert sum(r["flagged"] for r in model["by_platform"]) == totals["flagged"]
    assert sum(r["flagged"] for r in model["by_period"]) == totals["flagged"]
    assert sum(model["consistency"].values()) == totals["flagged"]
    assert sum(map(sum, model["confusion"]["counts"])) == totals["flagged"]


def test_the_sample_responses_tell_their_story(model):
    rows = {r["request_id"]: r for r in model["cases"]}
    assert (rows["NCA-2023-0412"]["status"], rows["NCA-2023-0412"]["direction"]) == (
        "inconsistent", "short")
    assert rows["NCA-2023-0412"]["unmet_clauses"] == ["meta.human-exploitation/smuggling-offer"]
    assert rows["NCA-2024-0226"]["direction"] == "beyond"
    assert rows["BE-REF-2024-1002-044"]["actual"] == "posts_removed"  # pending, then decided
    assert rows["EU-IRU-2025-0603-TG"]["actual"] == "pending"
    top = model["clauses"][0]
    assert top["key"] == "meta.human-exploitation/smuggling-offer" and top["cases"] >= 2
    disputed = {d["key"] for d in model["disputed"]}
    assert "meta.enforcement/admin-content" in disputed
    assert model["calibration"]["cases"] == model["totals"]["closed"]
    assert 0 <= model["calibration"]["brier"] <= 1


def test_filters(sample_db):
    with open_store(sample_db, create=False) as store:
        meta = store.cases(platforms_named("meta"))
        some = store.cases(since="2024-01-01", until="2024-06-30")
    assert {c.platform for c in meta} == {"facebook", "instagram"}
    assert all("2024-01-01" <= c.submitted <= "2024-06-30" for c in some)


def test_periods():
    assert [period_of("2024-05-17", p) for p in ("month", "quarter", "year")] == [
        "2024-05", "2024-Q2", "2024"]
    assert choose_period(["2024-01-03", "2024-11-30"]) == "month"
    assert choose_period(["2023-01-03", "2025-11-30"]) == "quarter"
    assert choose_period(["2019-01-03", "2025-11-30"]) == "year"
    assert choose_period([]) == "quarter"


def test_rejections_are_broken_down_by_the_reason_given_even_without_a_replay(model):
    """Without the rule sets, each rejection is still tied to what its recorded decision
    names: the rules that held and the thresholds with their figures."""
    rejections = model["rejections"]
    cases = {c["request_id"]: c for c in rejections["cases"]}
    assert rejections["rejected"] == len(cases) == sum(k["count"] for k in rejections["kinds"])
    assert not any(c["is_replayed"] for c in cases.values())
    refused = cases["NCA-2023-0412"]  # two adverts, "This Page doesn't go against ..."
    assert refused["kind"] == "not_contravening" and refused["status"] == "inconsistent"
    offer = next(i for i in refused["rules"]
                 if i["key"] == "meta.human-exploitation/smuggling-offer")
    assert (offer["state"], offer["supports"], offer["subjects"]) == (
        "held", False, ["post p1", "post p2"])
    kept = cases["EU-IRU-2024-1120"]  # posts removed; "does not meet the threshold"
    assert kept["kind"] == "posts_removed_page_kept"
    threshold = next(i for i in kept["rules"] if i["thresholds"])
    assert threshold["thresholds"][0]["met"] is False and threshold["supports"] is True
    by_kind = {k["kind"]: k["count"] for k in rejections["kinds"]}
    assert by_kind["other"] == sum(c["kind"] == "other" for c in cases.values()) > 0
