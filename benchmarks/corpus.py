"""A deterministic corpus of synthetic evidence for benchmarks, in the runtime form that
compiled conditions read: a target page dict (with its posts) and a request dict.

Pages are drawn from a few kinds that reviewers actually meet: pages run by smugglers,
migrant community groups where an advert turns up among questions and advice, news
pages that report on crossings (and so mention boats without selling anything), and
pages that have nothing to do with migration. Posts mix English, French, Arabic and
Albanian; most of those not in English carry an English translation, and an English
post is its own translation, as the engine makes it when it reads evidence. Signals
and context are what an assessor recorded, so they follow the text but are sometimes
missing (unknown) and sometimes wrong.

Everything here is invented. Phone numbers are taken from Ofcom's range reserved for
drama (+44 7700 900000 to 900999), handles are made up, and no person is named.
Evidence comes only from the seed: the same seed gives the same corpus.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable

from rules import Money, vocabulary

__all__ = ["DEFAULT_SEED", "generate"]

DEFAULT_SEED = 20221207

Page = dict
Request = dict

_FIRST_SUBMITTED = datetime.date(2023, 1, 9)
_SUBMISSION_DAYS = 700  # requests are spread over about two years from that day
_HISTORY_DAYS = 400     # a page's posts go back at most this long before the request

_PLACES_FROM = ["Calais", "Dunkirk", "Boulogne", "Gravelines", "Le Portel"]
_DAYS_EN = ["every day", "tonight", "this weekend", "every Tuesday and Friday", "tomorrow"]
_DAYS_FR = ["chaque jour", "ce soir", "ce week-end", "tous les mardis", "demain"]
_DAYS_SQ = ["çdo ditë", "sonte", "këtë fundjavë", "nesër"]
_DAYS_AR = [("كل يوم", "every day"), ("الليلة", "tonight"), ("غدا", "tomorrow")]
_CURRENCIES = [("GBP", "£"), ("EUR", "€")]
_HARMLESS_EN = [
    "Lovely morning walk along the cliffs at Dover",
    "Our bakery opens at 7 tomorrow, fresh bread all day",
    "Match report: 2-1 win away, well played everyone",
    "Lost cat near the harbour, grey with a white paw, please share",
    "Happy Eid to all our friends and neighbours",
    "Road closed near the ring road until Monday",
    "Volunteers needed to sort clothes donations this Saturday",
]
_HARMLESS_FR = [
    ("Belle journée au marché de Calais", "Lovely day at the Calais market"),
    ("Le club de foot recrute pour la saison", "The football club is recruiting for the season"),
    ("Fermeture exceptionnelle de la boulangerie lundi", "The bakery is closed on Monday"),
]
_HARMLESS_AR = [
    ("عيد مبارك لجميع الأصدقاء", "Happy Eid to all friends"),
    ("وصفة الكبسة اليوم، بالهناء والشفاء", "Today's kabsa recipe, enjoy"),
]
_HARMLESS_SQ = [
    ("Urime ditëlindjen vëllai im", "Happy birthday my brother"),
    ("Kafe me shokët në qendër", "Coffee with friends in the centre"),
]
_NEWS = [
    "Dozens rescued from a small boat in the Channel, coastguard says",
    "Record number of dinghy crossings this month, figures show",
    "Court jails gang that ran lorry to UK smuggling route",
    "Un bateau de migrants secouru au large de Gravelines",
]
_CONDEMNATION = [
    ("Smugglers take your money and leave you in a dinghy at sea. Do not trust them.",
     "awareness"),
    ("Every crossing with smugglers risks your life. Ask us for safe, legal options.",
     "condemnation"),
    ("المهربون يكذبون. القارب ليس آمنا", "awareness"),
]
_ASYLUM_INFO = [
    ("How to claim asylum in France: free legal advice every Tuesday at the community centre",
     "asylum_info"),
    ("Où demander l'asile ? Permanence juridique gratuite le jeudi", "asylum_info"),
    ("Cold night ahead: shelter open from 8pm, warm food and blankets", "humanitarian_info"),
    ("Do not go near the water tonight, the wind is very strong", "safety_info"),
]


def generate(n_pages: int, seed: int = DEFAULT_SEED) -> list[tuple[Page, Request]]:
    """`n_pages` (page, request) pairs, the same for the same seed."""
    rng = random.Random(seed)
    return [_page_and_request(rng, number) for number in range(n_pages)]


def _page_and_request(rng: random.Random, number: int) -> tuple[Page, Request]:
    submitted = _FIRST_SUBMITTED + datetime.timedelta(days=rng.randrange(_SUBMISSION_DAYS))
    kind = rng.choices(["smuggler", "community", "news", "harmless"], [3, 3, 1, 3])[0]
    make_page = _PAGE_KINDS[kind]
    page = make_page(rng, number, submitted)
    request: Request = {"id": f"req-{number:05d}", "submitted": submitted}
    if rng.random() < 0.01:
        del request["submitted"]  # a request logged without its date
    return page, request


# Pages

def _smuggler_page(rng, number, submitted) -> Page:
    name = rng.choice(["UK Taxi 24", "Fast Crossing Team", "Traversée Express",
                       "Varka Angli", "رحلات بريطانيا"])
    # Many smugglers' pages pass for travel agents: nothing on their face gives them away.
    signals = {"advertises_smuggling": rng.random() < 0.4, "dedicated": rng.random() < 0.2}
    weights = {"offer": 6, "solicit": 1, "harmless": 2, "news": 0, "warning": 0, "info": 0}
    return _page(rng, number, submitted, name, "Safe trips to the UK. Message us.", signals,
                 weights, followers=rng.randrange(50, 20000))


def _community_page(rng, number, submitted) -> Page:
    name = rng.choice(["Migrants in Calais mutual help", "Entraide exilés Dunkerque",
                       "Shqiptarët në Francë", "الجالية في كاليه"])
    weights = {"offer": 1, "solicit": 1, "harmless": 4, "news": 1, "warning": 2, "info": 3}
    return _page(rng, number, submitted, name, "Questions, advice and news for people on the move.",
                 _PAGE_CLEAN, weights, followers=rng.randrange(200, 60000))


def _news_page(rng, number, submitted) -> Page:
    name = rng.choice(["Channel Coast News", "Le Journal du Littoral"])
    weights = {"offer": 0, "solicit": 0, "harmless": 2, "news": 6, "warning": 1, "info": 0}
    return _page(rng, number, submitted, name, "Local news from the coast.", _PAGE_CLEAN,
                 weights, followers=rng.randrange(1000, 300000))


def _harmless_page(rng, number, submitted) -> Page:
    name = rng.choice(["Dover Bakery", "FC Littoral", "Cuisine de maman", "Kafe Tirana"])
    weights = {"offer": 0, "solicit": 0, "harmless": 1, "news": 0, "warning": 0, "info": 0}
    return _page(rng, number, submitted, name, "Welcome to our page.", _PAGE_CLEAN, weights,
                 followers=rng.randrange(0, 5000))


_PAGE_CLEAN = {"advertises_smuggling": False, "dedicated": False}


def _page(rng, number, submitted, name, description, signals, weights, followers) -> Page:
    """A page with 1 to 50 posts drawn by `weights`; its `signals` are recorded as
    assessed, or left out when nobody assessed the page itself."""
    kinds, chances = zip(*weights.items(), strict=True)
    posts = []
    for index in range(rng.randint(1, 50)):
        make_post = _POST_KINDS[rng.choices(kinds, chances)[0]]
        post = make_post(rng)
        post["id"] = f"p{number:05d}-{index:02d}"
        if rng.random() < 0.97:  # a few posts were captured without their date
            post["posted"] = submitted - datetime.timedelta(days=rng.randrange(_HISTORY_DAYS))
        posts.append(post)
    page: Page = {"platform": "meta", "surface": rng.choice(["facebook", "instagram"]),
                  "kind": "page", "name": f"{name} {number}", "description": description,
                  "followers": followers, "posts": posts}
    if rng.random() < 0.9:
        page["signals"] = {k: v for k, v in signals.items() if rng.random() < 0.97}
    return page


# Posts

def _offer(rng) -> dict:
    currency, symbol = rng.choice(_CURRENCIES)
    amount = rng.randrange(12, 60) * 100
    phone = f"+44 7700 900{rng.randrange(1000):03d}"
    handle = f"@{rng.choice(['taxi', 'trip', 'safe', 'fast'])}_{rng.randrange(100, 999)}"
    place = rng.choice(_PLACES_FROM)
    language = rng.choices(["en", "fr", "ar", "sq"], [4, 3, 2, 2])[0]
    if language == "en":
        text = rng.choice([
            f"Boat crossing to UK {rng.choice(_DAYS_EN)}, {amount} {currency}, WhatsApp {phone}",
            f"Small boat from {place} {rng.choice(_DAYS_EN)}, {symbol}{amount}, call {phone}",
            f"Lorry to UK 100% safe, {amount} {currency}, Telegram {handle}",
            f"Taxi to England from {place}, good price, message {phone}",
        ])
        translation = None
    elif language == "fr":
        day = rng.choice(_DAYS_FR)
        text, translation = rng.choice([
            (f"Traversée vers l'Angleterre {day}, {amount} {symbol}, WhatsApp {phone}",
             f"Crossing to England {day}, {amount} {symbol}, WhatsApp {phone}"),
            (f"Passage en zodiac depuis {place}, prix {amount} {currency}, contact {handle}",
             f"Passage by dinghy from {place}, price {amount} {currency}, contact {handle}"),
        ])
    elif language == "ar":
        day, day_en = rng.choice(_DAYS_AR)
        text = f"عبور إلى بريطانيا بالقارب {day}، السعر {amount} {symbol}، واتساب {phone}"
        translation = f"Crossing to Britain by boat {day_en}, price {amount} {symbol}, WhatsApp {phone}"
    else:
        day = rng.choice(_DAYS_SQ)
        text = f"Kalim me varkë për në Angli {day}, {amount} {symbol}, garanci 100%, WhatsApp {phone}"
        translation = f"Crossing by boat to England {day}, {amount} {symbol}, 100% guarantee, WhatsApp {phone}"
    # An assessor who misses the offer records False, as assessors do.
    signals = {"offers_crossing": rng.random() < 0.85, "solicits_smuggling": False}
    if str(amount) in text and rng.random() < 0.9:
        signals["price"] = Money(amount, currency)
    if rng.random() < 0.85:
        kind, value = ("telegram", handle) if handle in text else ("whatsapp", phone)
        signals["contacts"] = [{"kind": kind, "value": value}]
    else:
        signals["contacts"] = []
    # Now and then an advert is dressed as a warning, and labelled as the assessor saw it.
    context = {"awareness": True} if rng.random() < 0.03 else {}
    return _post(rng, text, translation, language, signals, context)


def _solicit(rng) -> dict:
    language = rng.choice(["en", "fr", "ar", "sq"])
    text, translation = {
        "en": ("Looking for someone to take me to UK, I can pay, DM me", None),
        "fr": ("Je cherche un passeur pour l'Angleterre, urgent",
               "I am looking for a smuggler to England, urgent"),
        "ar": ("أبحث عن مهرب إلى بريطانيا بسرعة", "Looking for a smuggler to Britain quickly"),
        "sq": ("Kush ka kalim për Angli? Më shkruani", "Who has a crossing to England? Write to me"),
    }[language]
    signals = {"offers_crossing": False, "solicits_smuggling": rng.random() < 0.85,
               "contacts": []}
    # Some ask how to claim asylum in the same breath.
    context = {"asylum_info": True} if rng.random() < 0.1 else {}
    return _post(rng, text, translation, language, signals, context)


def _harmless(rng) -> dict:
    language = rng.choices(["en", "fr", "ar", "sq"], [5, 2, 1, 1])[0]
    if language == "en":
        text, translation = rng.choice(_HARMLESS_EN), None
    else:
        text, translation = rng.choice({"fr": _HARMLESS_FR, "ar": _HARMLESS_AR,
                                        "sq": _HARMLESS_SQ}[language])
    return _post(rng, text, translation, language, _NOTHING_OFFERED, {})


def _news(rng) -> dict:
    text = rng.choice(_NEWS)
    language = "fr" if text.startswith("Un ") else "en"
    translation = "A migrant boat rescued off Gravelines" if language == "fr" else None
    return _post(rng, text, translation, language, _NOTHING_OFFERED, {"news_reporting": True})


def _warning(rng) -> dict:
    text, label = rng.choice(_CONDEMNATION)
    language = "ar" if not text.isascii() else "en"
    translation = "Smugglers lie. The boat is not safe" if language == "ar" else None
    return _post(rng, text, translation, language, _NOTHING_OFFERED, {label: True})


def _info(rng) -> dict:
    text, label = rng.choice(_ASYLUM_INFO)
    language = "fr" if "asile" in text else "en"
    translation = "Where to claim asylum? Free legal advice on Thursdays" if language == "fr" else None
    return _post(rng, text, translation, language, _NOTHING_OFFERED, {label: True})


_NOTHING_OFFERED = {"offers_crossing": False, "solicits_smuggling": False, "contacts": []}
# An assessed context with nothing in it: how the engine reads `"context": "none"`.
_NO_CONTEXT = dict.fromkeys(vocabulary.RECORDS["context"], False)


def _post(rng, text, translation, language, signals, context) -> dict:
    """A post as captured: what an assessor recorded (`signals`, and the `context` flags
    that are true), with the gaps real evidence has. A post nobody assessed has neither
    record; an assessed one may still lack a field, which is then unknown. As the engine
    does when it reads evidence, an English post is its own translation."""
    post = {"language": language}
    if rng.random() < 0.98:  # an image-only post has no text
        post["text"] = text
        if language == "en":
            post["translation"] = text
    if translation is not None and rng.random() < 0.9:
        post["translation"] = translation
    if rng.random() < 0.08:
        return post
    post["signals"] = {k: v for k, v in signals.items() if rng.random() < 0.97}
    post["context"] = {k: v for k, v in (_NO_CONTEXT | context).items() if rng.random() < 0.97}
    return post


_PAGE_KINDS: dict[str, Callable[..., Page]] = {
    "smuggler": _smuggler_page, "community": _community_page, "news": _news_page,
    "harmless": _harmless_page,
}
_POST_KINDS: dict[str, Callable[[random.Random], dict]] = {
    "offer": _offer, "solicit": _solicit, "harmless": _harmless, "news": _news,
    "warning": _warning, "info": _info,
}
