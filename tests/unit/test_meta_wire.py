"""Tests of the pydantic models of Meta's JSON (providers/meta/wire.py): the rules the hand-written readers applied,
now held by the models, and what the models add (unreadable items named, never with their values)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.providers.base import NotAWebhook
from chalicelib.providers.meta import MetaProvider, wire

SENDER = "393331234567"
PROVIDER = MetaProvider("app-secret", "verify-me", "access-token")


def text(**changes: object) -> dict:
    return {"from": SENDER, "id": "wamid.t", "timestamp": "1700000000", "type": "text", "text": {"body": "ciao"},
            **changes}


def value(*messages: object, **fields: object) -> dict:
    return {"metadata": {"phone_number_id": "1122"}, "messages": list(messages), **fields}


def webhook(value_: dict) -> bytes:
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "waba", "changes": [{"field": "messages", "value": value_}]}]}).encode()


def read_messages(*messages: object) -> list:
    return wire.Value.model_validate(value(*messages)).messages


# ---- unknown fields and unknown types ------------------------------------------------------

def test_unknown_fields_are_ignored_at_every_level():
    message = text(novel={"x": 1}, text={"body": "ciao", "novel": [1]}, context={"id": "wamid.c", "novel": True})
    body = {"object": "whatsapp_business_account", "novel": 1, "entry": [{"novel": 2, "changes": [
        {"field": "messages", "novel": 3, "value": {**value(message), "novel": 4,
                                                     "metadata": {"phone_number_id": "1122", "novel": 5}}}]}]}
    [parsed] = PROVIDER.parse_webhook(json.dumps(body).encode()).messages
    assert (parsed.text, parsed.context_message_id, parsed.channel_id) == ("ciao", "wamid.c", "1122")


@pytest.mark.parametrize("kind", ["sticker", "poll_update", "a_type_from_2030", "x" * 60])  # audio is read (issue 13)
def test_an_unknown_message_type_is_unsupported(kind):
    [item] = read_messages(text(type=kind))
    assert isinstance(item, wire.UnsupportedMessage)
    [message] = PROVIDER.parse_webhook(webhook(value(text(type=kind)))).messages
    assert (message.kind, message.original_type) == ("unsupported", kind[:40])


@pytest.mark.parametrize("kind", ["reaction", "system", "edit", "revoke"])
def test_silent_types_are_read_and_skipped(kind):
    assert isinstance(read_messages(text(type=kind))[0], wire.SilentMessage)
    batch = PROVIDER.parse_webhook(webhook(value(text(type=kind))))
    assert (batch.messages, batch.skipped) == ([], 1)


@pytest.mark.parametrize("kind", [None, 3, ["text"], "", "\ud800"])
def test_a_type_that_is_no_name_is_unreadable(kind):
    assert isinstance(read_messages(text(type=kind))[0], wire.Unreadable)


# ---- one bad item costs nothing else -------------------------------------------------------

def test_a_bad_item_is_unreadable_and_its_neighbours_are_read():
    bad, good = text(id="wamid.bad", text={"body": 7}), text(id="wamid.good")
    items = read_messages(bad, good)
    assert isinstance(items[0], wire.Unreadable) and items[0].where == "text.text.body (string_type)"
    assert isinstance(items[1], wire.TextMessage) and items[1].id == "wamid.good"


def test_unreadable_names_fields_never_values():
    [item] = read_messages(text(id=["+393331234567"], text={"body": {"secret": "via Roma 1"}}))
    assert isinstance(item, wire.Unreadable)
    assert "id" in item.where and "body" in item.where
    assert "393331234567" not in item.where and "via Roma" not in item.where and "secret" not in item.where


def test_a_payload_cannot_pose_as_unreadable():
    [item] = read_messages({"where": "forged"})
    assert isinstance(item, wire.Unreadable) and item.where != "forged"


@pytest.mark.parametrize("messages,expected", [(None, []), ({"0": text()}, [wire.Unreadable("not a list")]),
                                               ("text", [wire.Unreadable("not a list")])])
def test_messages_that_are_no_list(messages, expected):
    assert wire.Value.model_validate({**value(), "messages": messages}).messages == expected


# ---- field rules ---------------------------------------------------------------------------

def test_a_bad_optional_field_reads_as_none_and_keeps_the_message():
    image = {"id": "m1", "mime_type": 5, "caption": "\ud800", "sha256": ["x"], "url": "https://lookaside/x"}
    [item] = read_messages(text(type="image", image=image, context="not an object", from_user_id=9))
    assert isinstance(item, wire.ImageMessage)
    assert (item.image.mime_type, item.image.caption, item.image.sha256) == (None, None, None)
    assert (item.image.url, item.context, item.from_user_id) == ("https://lookaside/x", None, None)


@pytest.mark.parametrize("changes", [{"id": ""}, {"id": 7}, {"text": {"body": "\udc80"}}, {"text": "ciao"},
                                     {"type": "image", "image": {"id": ""}},
                                     {"type": "interactive", "interactive": {"type": "button_reply",
                                                                            "button_reply": {"id": ""}}},
                                     {"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {}}},
                                     {"type": "button", "button": {"text": "no payload"}}])
def test_required_parts_missing_empty_or_mistyped_make_the_message_unreadable(changes):
    assert isinstance(read_messages(text(**changes))[0], wire.Unreadable)


@pytest.mark.parametrize("timestamp,expected", [
    ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    (1700000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    ("0", datetime(1970, 1, 1, tzinfo=UTC)),
    ("253402300799", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
])
def test_unix_seconds(timestamp, expected):
    assert read_messages(text(timestamp=timestamp))[0].timestamp == expected


@pytest.mark.parametrize("timestamp", ["1700000000.5", "1e9", " 1700000000", "-1", "１７", "9" * 13, "253402300800",
                                       10 ** 30, True, 1.7e9, None, "yesterday"])
def test_what_is_not_unix_seconds(timestamp):
    assert isinstance(read_messages(text(timestamp=timestamp))[0], wire.Unreadable)


@pytest.mark.parametrize("latitude,longitude", [(90, -180), (-90.0, 180.0), (0, 0), (45.5, 12)])
def test_points_on_earth(latitude, longitude):
    where = {"latitude": latitude, "longitude": longitude}
    assert isinstance(read_messages(text(type="location", location=where))[0], wire.LocationMessage)


@pytest.mark.parametrize("latitude,longitude", [(90.01, 0), (0, -180.5), ("45", 12), (True, 12), (45, None),
                                                (float("nan"), 1), (float("inf"), 1), (10 ** 400, 1)])
def test_what_is_not_a_point_on_earth(latitude, longitude):
    where = {"latitude": latitude, "longitude": longitude}
    assert isinstance(read_messages(text(type="location", location=where))[0], wire.Unreadable)


def test_status_values_and_error_codes_are_exact():
    status = {"id": "wamid.s", "status": "failed", "timestamp": "1", "errors": [
        {"code": 131026, "title": "t"}, {"code": True}, {"code": "131026"}, "not an error"]}
    unread = {**status, "status": "READ"}
    [read, unknown] = wire.Value.model_validate({**value(), "statuses": [status, unread]}).statuses
    assert [error.code if error else "dropped" for error in read.errors] == [131026, None, None, "dropped"]
    assert isinstance(unknown, wire.Unreadable)


# ---- provider ids: bounded to Meta's forms (issue 13) ---------------------------------------

LONGEST_BSUID = "IT." + "a1" * 64  # a country code, a dot and 128 characters


def parsed(*messages: object, **fields: object):
    return PROVIDER.parse_webhook(webhook(value(*messages, **fields)))


def bsuid_only(user_id: object, **changes: object) -> dict:
    message = text(from_user_id=user_id, **changes)
    del message["from"]
    return message


def test_a_bsuid_is_a_country_code_a_dot_and_up_to_128_characters():
    [message] = parsed(bsuid_only(LONGEST_BSUID)).messages
    assert message.sender_user_id == LONGEST_BSUID and len(LONGEST_BSUID) == 131
    [parent] = parsed(bsuid_only("US.ENT.11815799212886844830")).messages  # a managed business's parent id
    assert parent.sender_user_id == "US.ENT.11815799212886844830"


@pytest.mark.parametrize("user_id", ["IT." + "a" * 129, "IT." + "a" * 2997, "IT.", "ITA.123", "I.123", "IT 123",
                                     "IT.12 34", "IT.12|34", "IT.è1", "12345"])
def test_a_bsuid_past_its_form_names_nobody(user_id):
    """Sent by nobody else, the message is skipped; its contact's copy of the id is no user id either."""
    batch = parsed(bsuid_only(user_id), contacts=[{"user_id": user_id, "profile": {"name": "Ada"}}])
    assert (batch.messages, batch.skipped) == ([], 1)
    [message] = parsed(text(from_user_id=user_id), contacts=[{"wa_id": SENDER, "user_id": user_id}]).messages
    assert (message.sender_phone, message.sender_user_id) == ("+" + SENDER, None)


@pytest.mark.parametrize("message_id", ["wamid." + "A" * 250, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEz=",
                                        "<WHATSAPP_MESSAGE_ID>"])
def test_message_ids_within_their_bound_are_read(message_id):
    [message] = parsed(text(id=message_id), text(id="wamid.c", context={"id": message_id})).messages[:1]
    assert message.message_id == message_id


@pytest.mark.parametrize("message_id", ["wamid." + "A" * 251, "wamid." + "A" * 2994, "wamid.a|b", "wamid.a b",
                                        "wamid.\u00e8", "wamid.\n"])
def test_a_message_id_past_its_bound_makes_the_message_unreadable(message_id):
    assert isinstance(read_messages(text(id=message_id))[0], wire.Unreadable)
    [message] = parsed(text(context={"id": message_id})).messages  # a context naming no message we sent
    assert message.context_message_id is None
    status = {"id": message_id, "status": "read", "timestamp": "1"}
    assert isinstance(wire.Value.model_validate({**value(), "statuses": [status]}).statuses[0], wire.Unreadable)


@pytest.mark.parametrize("pnid", ["1" * 65, "", "11 22", "11|22"])
def test_a_phone_number_id_past_its_bound_makes_the_change_unreadable(pnid):
    batch = PROVIDER.parse_webhook(webhook({**value(text()), "metadata": {"phone_number_id": pnid}}))
    assert (batch.messages, batch.skipped) == ([], 1)


@pytest.mark.parametrize("media_id", ["../../me", "1/2", "m" * 129, "1 2", "1?x=1", "1#x"])
def test_a_media_id_that_could_leave_its_url_segment_makes_the_message_unreadable(media_id):
    assert isinstance(read_messages(text(type="image", image={"id": media_id}))[0], wire.Unreadable)


@pytest.mark.parametrize("kind,tap", [("button_reply", "button_reply"), ("list_reply", "list_reply")])
def test_a_reply_id_is_at_most_256_characters(kind, tap):
    def tapped(reply_id):
        return text(type="interactive", interactive={"type": kind, tap: {"id": reply_id, "title": "t"}})
    assert isinstance(read_messages(tapped("x" * 256))[0], wire.InteractiveMessage)
    assert isinstance(read_messages(tapped("x" * 257))[0], wire.Unreadable)
    assert isinstance(read_messages(text(type="button", button={"payload": "x" * 257}))[0], wire.Unreadable)


def test_optional_ids_and_texts_past_their_bound_read_as_none():
    status = {"id": "wamid.s", "status": "read", "timestamp": "1", "recipient_user_id": "IT." + "a" * 129,
              "recipient_id": "1" * 129, "biz_opaque_callback_data": "x" * 513,
              "errors": [{"code": 1, "title": "t" * 1025, "message": "m" * 1025}]}
    [read] = wire.Value.model_validate({**value(), "statuses": [status]}).statuses
    assert (read.recipient_user_id, read.recipient_id, read.biz_opaque_callback_data) == (None, None, None)
    assert (read.errors[0].code, read.errors[0].title, read.errors[0].message) == (1, None, None)
    where = {"latitude": 1, "longitude": 1, "name": "n" * 1001, "address": "a" * 1001}
    [place] = read_messages(text(type="location", location=where))
    assert (place.location.name, place.location.address) == (None, None)
    [message] = parsed(text(), contacts=[{"wa_id": SENDER, "profile": {"name": "n" * 257}}]).messages
    assert message.profile_name is None


# ---- contacts ------------------------------------------------------------------------------

def test_a_contact_id_we_cannot_read_is_unreadable_and_matches_no_message():
    contact = wire.Contact.model_validate({"wa_id": 393331234567, "user_id": "IT.x", "profile": {"name": "Ada"}})
    assert isinstance(contact.wa_id, wire.Unreadable) and contact.wa_id != SENDER
    assert (contact.user_id, contact.profile.name) == ("IT.x", "Ada")


def test_an_unreadable_contact_id_the_message_does_not_give_keeps_the_contact():
    contacts = [{"wa_id": SENDER, "user_id": ["IT.x"], "profile": {"name": "Ada"}}]
    [message] = PROVIDER.parse_webhook(webhook(value(text(), contacts=contacts))).messages
    assert (message.profile_name, message.sender_user_id) == ("Ada", None)


def test_an_unreadable_contact_id_the_message_gives_differs():
    contacts = [{"wa_id": int(SENDER), "user_id": "IT.x", "profile": {"name": "Ada"}}]
    [message] = PROVIDER.parse_webhook(webhook(value(text(), contacts=contacts))).messages
    assert (message.profile_name, message.sender_user_id) == (None, None)


# ---- the envelope --------------------------------------------------------------------------

@pytest.mark.parametrize("raw,reason", [
    (b"{", "body is not JSON"),
    (b"[]", "body is not a JSON object"),
    (b'{"object": "page", "entry": []}', "object is not whatsapp_business_account"),
    (b'{"entry": []}', "object is not whatsapp_business_account"),
    (b'{"object": "whatsapp_business_account", "entry": {}}', "entry is not a list"),
    (b'{"object": "whatsapp_business_account"}', "entry is not a list"),
])
def test_why_a_body_is_not_a_webhook(raw, reason):
    with pytest.raises(NotAWebhook, match=f"^{reason}$"):
        PROVIDER.parse_webhook(raw)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_a_body_in_utf_16_or_utf_32_is_not_a_webhook(encoding):
    """json.loads reads these; a queue and a table would not: JSON between systems is UTF-8 (RFC 8259)."""
    with pytest.raises(NotAWebhook, match="^body is not UTF-8 JSON$"):
        PROVIDER.parse_webhook(webhook(value(text())).decode().encode(encoding))


def test_a_leading_byte_order_mark_is_ignored():
    [message] = PROVIDER.parse_webhook(b"\xef\xbb\xbf" + webhook(value(text()))).messages
    assert message.text == "ciao"
    [part] = PROVIDER.webhook_parts(b"\xef\xbb\xbf" + webhook(value(text())), 10_000)
    assert not part.startswith("\ufeff")


def test_a_body_that_fits_is_queued_as_it_came_but_for_what_sqs_refuses():
    raw = webhook(value(text()))
    assert PROVIDER.webhook_parts(raw, len(raw)) == [raw.decode()]
    odd = webhook(value(text(text={"body": "a\uffffb\ufffe"}))).replace(b"\\uffff", "\uffff".encode()).replace(
        b"\\ufffe", "\ufffe".encode())
    assert "\uffff".encode() in odd  # raw in the body, as JSON and UTF-8 allow
    [part] = PROVIDER.webhook_parts(odd, len(odd) * 2)
    assert "\uffff" not in part and "\ufffe" not in part and part.isascii()
    assert PROVIDER.parse_webhook(part.encode()).messages[0].text == "a\uffffb\ufffe"


def test_entries_and_changes_are_read_one_by_one():
    envelope = wire.Envelope.model_validate({"object": "whatsapp_business_account", "entry": [
        {"changes": "none"}, {"changes": [None, {"field": "account_update", "value": []}, {"field": "messages"}]}]})
    bad_entry, entry = envelope.entry
    assert isinstance(bad_entry, wire.Unreadable)
    unreadable, other, no_value = entry.changes
    assert isinstance(unreadable, wire.Unreadable) and isinstance(no_value, wire.Unreadable)
    assert isinstance(other, wire.OtherChange) and other.field == "account_update"


# ---- Graph API answers ---------------------------------------------------------------------

@pytest.mark.parametrize("raw,message_id", [
    (b'{"messages": [{"id": "wamid.OUT"}]}', "wamid.OUT"),
    (b'{"messages": [{"id": "wamid.OUT", "message_status": "accepted"}, "odd"]}', "wamid.OUT"),
    (b'{"messages": ["odd", {"id": "wamid.OUT"}]}', None),
    (b'{"messages": [{"id": ""}]}', None),
    (b'{"messages": []}', None),
])
def test_the_first_message_of_a_send_answer_is_ours(raw, message_id):
    accepted = wire.read(wire.Accepted, raw)
    ours = accepted.messages[0] if accepted else None
    assert (ours.id if ours else None) == message_id


@pytest.mark.parametrize("raw", [b"", b"<html>", b"[1]", b"\xff", b"[" * 100_000])
def test_read_is_none_for_what_is_not_a_json_object(raw):
    assert wire.read(wire.Refusal, raw) is None


def test_an_error_answer_keeps_what_it_can():
    refusal = wire.read(wire.Refusal, b'{"error": {"code": 131047, "message": ["x"], "error_data": {"details": "d"}}}')
    assert (refusal.error.code, refusal.error.message, refusal.error.error_data.details) == (131047, None, "d")


def test_a_change_cut_by_its_items_survives_any_sender_value():
    """A message whose ids are not strings (lists, objects) is still cut and skipped by the parser, never a crash."""
    odd = [text(id=f"wamid.{n}", **{"from": value_}) for n, value_ in enumerate([["3933"], {"x": 1}, 7, None])]
    contacts = [{"wa_id": SENDER}, {"wa_id": "39111", "user_id": "IT.x"}]
    raw = webhook(value(*odd, text(id="wamid.ok"), contacts=contacts))
    parts = PROVIDER.webhook_parts(raw, 400)
    assert len(parts) > 1
    read = [m.message_id for p in parts for m in PROVIDER.parse_webhook(p.encode()).messages]
    assert read == ["wamid.ok"]
