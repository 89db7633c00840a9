"""Property-based fuzzing of what reads untrusted input: the Meta webhook parser, its signature and handshake
checks, the readers of Graph API answers, and the keyword parser. Whatever the input, only the documented exception
(NotAWebhook) may escape, and what the parser lets through can be stored (UTF-8) and queued (JSON) as the worker does.

Bounded and derandomized: the same examples on every run, in well under 30 s.
"""
from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.keywords import PHRASES, Command, normalize_text, parse_command
from chalicelib.providers.base import NotAWebhook, WebhookBatch
from chalicelib.providers.meta import MetaProvider, parts, wire

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "whatsapp"
CASES = [body for path in sorted(FIXTURES.glob("*.json")) for body in json.loads(path.read_text()).values()]
PROVIDER = MetaProvider("app-secret", "verify-me", "access-token")
FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)

# ---- strategies ---------------------------------------------------------------------------------------

# odd Unicode on purpose: lone surrogates, NUL, bidi overrides, combining marks, emoji, the BOM
ODD_TEXT = st.text(alphabet=st.characters(codec=None), max_size=40) | st.sampled_from(
    ["\ud800", "a\udc80b", "\x00", "\u202e\u200b", "e\u0301", "👋🏽", "\ufeff", "", " ", "١٢٣", "9" * 40])
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | ODD_TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(ODD_TEXT | st.sampled_from(["id", "type", "from", "text", "body", "status",
                                                                         "timestamp", "messages", "statuses"]),
                                             inner, max_size=4), max_leaves=25)
KEYS = ["object", "entry", "changes", "field", "value", "metadata", "phone_number_id", "messages", "statuses",
        "contacts", "from", "id", "timestamp", "type", "text", "body", "image", "location", "latitude", "longitude",
        "interactive", "button_reply", "list_reply", "button", "payload", "status", "errors", "code", "wa_id",
        "user_id", "from_user_id", "biz_opaque_callback_data", "recipient_id", "context", "profile", "name"]
ENVELOPES = st.fixed_dictionaries({
    "object": st.just("whatsapp_business_account") | ODD_TEXT,
    "entry": st.lists(st.fixed_dictionaries({"changes": st.lists(st.fixed_dictionaries({
        "field": st.just("messages") | ODD_TEXT,
        "value": st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=6)}), max_size=3)}), max_size=3)
    | JSON_VALUES,
})


def _paths(value, prefix=()) -> list[tuple]:
    """Every path into a JSON value (dict keys and list indexes)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _at(value, path: tuple):
    for step in path:
        value = value[step]
    return value


@st.composite
def near_valid(draw) -> dict:
    """A real Meta payload (tests/fixtures/whatsapp) with a few values replaced, removed or duplicated."""
    body = copy.deepcopy(draw(st.sampled_from(CASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = [p for p in _paths(body) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _at(body, path[:-1])
        action = draw(st.sampled_from(["retext", "retext", "replace", "remove", "duplicate", "wrap"]))
        if action == "retext":  # a string where Meta puts one, but an odd one
            texts = [p for p in paths if isinstance(_at(body, p), str)]
            if texts:
                path = draw(st.sampled_from(texts))
                _at(body, path[:-1])[path[-1]] = draw(ODD_TEXT)
        elif action == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif action == "remove":
            del parent[path[-1]]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        else:
            parent[path[-1]] = [parent[path[-1]]]
    return body


# ---- properties ---------------------------------------------------------------------------------------

def parse_or_refuse(raw: bytes) -> WebhookBatch | None:
    """The parser's answer: a batch, or NotAWebhook (None); any other exception fails the test."""
    try:
        batch = PROVIDER.parse_webhook(raw)
    except NotAWebhook:
        return None
    for event in (*batch.messages, *batch.statuses):  # what the worker queues and stores
        json.dumps(event.model_dump(mode="json")).encode()
        _storable(event.model_dump())
    return batch


def _storable(value) -> None:
    """Every string can be written to DynamoDB (UTF-8: no lone surrogates)."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for item in value.values():
            _storable(item)
    elif isinstance(value, list):
        for item in value:
            _storable(item)


@fuzz(300)
@given(st.binary(max_size=300))
def test_any_bytes_are_parsed_or_refused(raw):
    parse_or_refuse(raw)


@fuzz(300)
@given(JSON_VALUES)
def test_any_json_value_is_parsed_or_refused(value):
    parse_or_refuse(json.dumps(value).encode())


@fuzz(400)
@given(ENVELOPES)
def test_any_envelope_is_parsed_or_refused(body):
    parse_or_refuse(json.dumps(body).encode())


@fuzz(600)
@given(near_valid())
def test_mutated_real_payloads_are_parsed_or_refused(body):
    parse_or_refuse(json.dumps(body).encode())


def _events(batch: WebhookBatch) -> Counter:
    return Counter(json.dumps(event.model_dump(mode="json"), sort_keys=True)
                   for event in (*batch.messages, *batch.statuses))


def _merged(bodies: list) -> bytes:
    """One POST carrying the entries of several (Meta batches many in one)."""
    entries = [entry for body in bodies for entry in (body.get("entry") if isinstance(body.get("entry"), list)
                                                     else [body.get("entry")])]
    return json.dumps({"object": "whatsapp_business_account", "entry": entries}).encode()


def _read_in_parts(raw: bytes, most: int) -> tuple[Counter, bool]:
    """The events the parts of raw read as, each part checked to fit; and whether an item was dropped."""
    with patch.object(parts.logger, "error") as dropped:
        cut = PROVIDER.webhook_parts(raw, most)
    assert all(len(part.encode("utf-8")) <= most for part in cut)
    return sum((_events(parse_or_refuse(part.encode("utf-8"))) for part in cut), Counter()), dropped.called


@fuzz(300)
@given(st.lists(near_valid() | ENVELOPES, min_size=1, max_size=6), st.integers(min_value=700, max_value=4000))
def test_a_body_in_parts_reads_as_the_whole_and_every_part_fits(bodies, most):
    """Cut small, every part fits and is a webhook, and the parts read as the whole body does: the same messages
    (with their senders' contacts) and statuses, but for an item too big for a part alone (dropped, with an error)."""
    raw = _merged(bodies)
    whole = parse_or_refuse(raw)
    if whole is None:
        return
    read, dropped = _read_in_parts(raw, most)
    assert read == _events(whole) if not dropped else not read - _events(whole)


def test_real_payloads_in_one_body_cut_small_read_as_the_whole():
    raw = _merged(CASES)
    read, dropped = _read_in_parts(raw, 1300)
    assert not dropped and read == _events(PROVIDER.parse_webhook(raw))
    assert len(PROVIDER.webhook_parts(raw, 1300)) >= 10


def test_every_real_payload_is_a_webhook():
    assert all(parse_or_refuse(json.dumps(body).encode()) is not None for body in CASES)


@fuzz(12)
@given(st.integers(min_value=1, max_value=6), st.sampled_from([b"[", b'{"a":']))
def test_deep_nesting_is_refused_not_a_crash(depth_thousands, opener):
    assert parse_or_refuse(opener * (depth_thousands * 10_000)) is None


@fuzz(300)
@given(st.sampled_from([wire.Accepted, wire.MediaInfo, wire.Refusal]),
       st.binary(max_size=100) | JSON_VALUES.map(lambda value: json.dumps(value).encode()))
def test_graph_answers_are_read_or_none(model, raw):
    answer = wire.read(model, raw)
    assert answer is None or isinstance(answer, model)
    if answer is not None:
        _storable(answer.model_dump())


@fuzz(300)
@given(st.binary(max_size=200), st.dictionaries(ODD_TEXT, ODD_TEXT | st.none() | st.integers(), max_size=3))
def test_signature_check_answers_a_boolean(raw, headers):
    assert PROVIDER.verify_signature(raw, headers) is False


@fuzz(300)
@given(st.dictionaries(st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge"]) | ODD_TEXT,
                       ODD_TEXT | st.none() | st.integers(), max_size=4))
def test_handshake_check_answers_the_challenge_or_none(params):
    answer = PROVIDER.verify_challenge(params)
    assert answer is None or (params.get("hub.verify_token") == "verify-me" and answer == params["hub.challenge"])


@fuzz(1500)
@given(st.text(max_size=300) | ODD_TEXT)
def test_keywords_never_raise(text):
    assert isinstance(normalize_text(text), str)
    assert parse_command(text) is None or isinstance(parse_command(text), Command)


RECOGNISED = sorted((phrase, command) for command, phrases in PHRASES.items() for phrase in phrases if phrase != "?")


@fuzz(500)
@given(st.sampled_from(RECOGNISED), st.data())
def test_commands_are_recognised_whatever_the_case_spaces_and_punctuation(entry, data):
    phrase, command = entry
    cased = "".join(ch.upper() if data.draw(st.booleans()) else ch for ch in phrase)
    noise = st.text(alphabet=" \t\n.,;:!¡¿-\"'()…", max_size=4)
    spaced = cased.replace(" ", data.draw(st.sampled_from([" ", "  ", " \n ", ", "])))
    assert parse_command(data.draw(noise) + spaced + data.draw(noise)) is command
