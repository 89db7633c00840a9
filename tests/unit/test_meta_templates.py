"""Meta's template webhooks (message_template_status_update, template_category_update) read into TemplateEvents, in
the shapes of pywa's test data (david-lev/pywa tests/data/updates, MIT) and Meta's reference."""
from __future__ import annotations

import json

from chalicelib.providers.meta import MetaProvider


def provider() -> MetaProvider:
    return MetaProvider(app_secret="s", verify_token="v", access_token="t")


def envelope(*changes, account: object = "57438975935") -> bytes:
    entry = {"time": 1698268000, "changes": list(changes)}
    if account is not None:
        entry["id"] = account
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


def test_an_approval_a_rejection_and_a_new_category_are_read():
    batch = provider().parse_webhook(envelope(
        {"field": "message_template_status_update", "value": {
            "event": "APPROVED", "message_template_id": 12345678, "message_template_name": "my_message_template",
            "message_template_language": "pt-BR", "reason": None}},
        {"field": "message_template_status_update", "value": {
            "event": "REJECTED", "message_template_id": "87654321", "message_template_name": "altro",
            "message_template_language": "it", "reason": "INVALID_FORMAT"}},
        {"field": "template_category_update", "value": {
            "message_template_id": 12345678, "message_template_name": "my_message_template",
            "message_template_language": "he", "previous_category": "UTILITY", "new_category": "MARKETING"}}))
    approved, rejected, moved = batch.templates
    assert (approved.account_id, approved.template_id, approved.status, approved.reason) == \
        ("57438975935", "12345678", "APPROVED", None)
    assert (rejected.template_id, rejected.status, rejected.reason) == ("87654321", "REJECTED", "INVALID_FORMAT")
    assert (moved.status, moved.previous_category, moved.new_category) == (None, "UTILITY", "MARKETING")
    assert batch.skipped == 0 and batch.messages == [] and batch.statuses == []


def test_reason_none_is_no_reason_and_other_fields_are_skipped():
    batch = provider().parse_webhook(envelope(
        {"field": "message_template_status_update", "value": {
            "event": "APPROVED", "message_template_id": 1, "reason": "NONE"}},
        {"field": "message_template_quality_update", "value": {"message_template_id": 1}}))
    (event,) = batch.templates
    assert event.reason is None and batch.skipped == 1


def test_a_template_change_without_its_account_or_id_is_skipped_not_fatal():
    without_account = provider().parse_webhook(envelope(
        {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 1}},
        account=None))
    assert without_account.templates == [] and without_account.skipped == 1
    without_id = provider().parse_webhook(envelope(
        {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": "x1"}}))
    assert without_id.templates == [] and without_id.skipped == 1


def test_a_body_split_into_parts_keeps_the_template_news():
    """A webhook body too big for one queue message is split; a template change in it is kept whole."""
    status = {"field": "message_template_status_update", "value": {
        "event": "APPROVED", "message_template_id": 42, "message_template_name": "avviso", "message_template_language": "it"}}
    messages = {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"},
                                               "statuses": [{"id": f"wamid.{i}", "status": "sent", "timestamp": "1",
                                                             "recipient_id": "393331234567"} for i in range(50)]}}
    raw = envelope(messages, status)
    parts = provider().webhook_parts(raw, 2000)
    assert len(parts) > 1
    events = [e for part in parts for e in provider().parse_webhook(part.encode()).templates]
    assert [(e.account_id, e.template_id, e.status) for e in events] == [("57438975935", "42", "APPROVED")]


def test_only_a_body_of_statuses_alone_is_queued_apart_from_messages_and_template_news():
    """The webhook sends a body of statuses alone to the statuses queue (applied in large batches): template news
    beside statuses, or a message, keeps the body on the inbound queue, whose worker handles all of it."""
    from pathlib import Path

    fixture = json.loads((Path(__file__).parents[1] / "fixtures" / "whatsapp" / "message_status.json").read_text())
    statuses = fixture["delivered"]["entry"][0]["changes"][0]
    news = {"field": "message_template_status_update", "value": {
        "event": "APPROVED", "message_template_id": 12345678, "message_template_name": "avviso"}}
    assert provider().check_webhook(json.dumps(fixture["delivered"]).encode()).statuses_only
    assert not provider().check_webhook(envelope(statuses, news)).statuses_only
    assert not provider().check_webhook(envelope(news)).statuses_only
    with_message = {**statuses, "value": {**statuses["value"], "messages": [{"from": "393331234567", "id": "wamid.1",
                                                                              "type": "text", "text": {"body": "x"}}]}}
    assert not provider().check_webhook(envelope(with_message)).statuses_only


def test_a_body_of_sent_statuses_alone_has_nothing_to_apply_and_any_news_beside_them_does():
    """'sent' is what the send itself recorded: a body of such statuses alone is answered without queueing. A status
    of any other kind, one not well-formed (the worker judges it), a message or template news makes it queued."""
    from pathlib import Path

    fixture = json.loads((Path(__file__).parents[1] / "fixtures" / "whatsapp" / "message_status.json").read_text())
    change = fixture["sent"]["entry"][0]["changes"][0]
    [sent] = change["value"]["statuses"]

    def body(*statuses, **value) -> bytes:
        return envelope({**change, "value": {**change["value"], "statuses": list(statuses), **value}})

    assert provider().check_webhook(json.dumps(fixture["sent"]).encode()).nothing_to_apply
    assert provider().check_webhook(body(sent, sent)).nothing_to_apply
    for news in ({**sent, "status": "delivered"}, {**sent, "status": "failed"}, {**sent, "status": ["sent"]},
                 {**sent, "status": None}, "sent"):
        summary = provider().check_webhook(body(sent, news))
        assert not summary.nothing_to_apply and summary.statuses_only, news
    assert not provider().check_webhook(body()).nothing_to_apply
    message = {"from": "393331234567", "id": "wamid.1", "type": "text", "text": {"body": "x"}}
    assert not provider().check_webhook(body(sent, messages=[message])).nothing_to_apply
    news = {"field": "message_template_status_update", "value": {
        "event": "APPROVED", "message_template_id": 12345678, "message_template_name": "avviso"}}
    assert not provider().check_webhook(envelope({**change, "value": {**change["value"], "statuses": [sent]}},
                                                 news)).nothing_to_apply

