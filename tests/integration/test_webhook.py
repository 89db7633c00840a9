"""The webhook contract: 401 for bad signatures, 400 for non-WhatsApp bodies, 200 once queued, once-only handling."""
from __future__ import annotations

import json
import uuid

import requests

from tests.integration.conftest import BROADCAST, Phone, sign, text_payload
from tests.waiting import wait_for


def post(stack, body: bytes, signature: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return requests.post(f"{stack.api_url}/webhooks/meta", data=body, headers=headers, timeout=10)


def queued_messages(stack, queue: str = "inbound") -> int:
    """Messages sitting on a queue (inbound by default) or being handled right now."""
    import boto3
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=f"filo-local-{queue}")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def status_body(sent: dict, phone: Phone, *statuses: str) -> bytes:
    """A webhook with these statuses of a message the sandbox took, as Meta posts them."""
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "390571000001", "phone_number_id": BROADCAST},
            "statuses": [{"id": sent["id"], "status": status, "timestamp": "1795450000", "recipient_id": phone.e164[1:],
                          "biz_opaque_callback_data": sent["body"]["biz_opaque_callback_data"]}
                         for status in statuses]}}]}]}).encode()


def test_handshake(stack):
    params = {"hub.mode": "subscribe", "hub.verify_token": stack.verify_token, "hub.challenge": "1158201444"}
    answer = requests.get(f"{stack.api_url}/webhooks/meta", params=params, timeout=10)
    assert answer.status_code == 200 and answer.text == "1158201444"
    params["hub.verify_token"] = "wrong"
    assert requests.get(f"{stack.api_url}/webhooks/meta", params=params, timeout=10).status_code == 403


def test_bad_or_missing_signature_is_401_and_nothing_is_queued(stack, new_phone):
    phone = new_phone()
    body = text_payload(BROADCAST, phone.e164[1:], "ATTIVA", f"wamid.{uuid.uuid4().hex}")
    tampered = body.replace(b"ATTIVA", b"ATTIVO")
    for signature in (None, "", "sha256=" + "0" * 64, sign("not-the-secret", body), sign(stack.app_secret, body)[7:],
                      sign(stack.app_secret, body).replace("sha256", "sha1")):
        answer = post(stack, body, signature)
        assert answer.status_code == 401, signature
        assert answer.json()["error"]["code"] == "invalid_signature"
        assert sign(stack.app_secret, body)[7:] not in answer.text
    assert post(stack, tampered, sign(stack.app_secret, body)).status_code == 401
    assert phone.settle(1.5) == []
    assert queued_messages(stack) == 0


def test_body_that_is_not_a_whatsapp_payload_is_400(stack):
    for body in (b"not json", b"[]", b'{"object": "page", "entry": []}', b'{"object": "whatsapp_business_account"}'):
        answer = post(stack, body, sign(stack.app_secret, body))
        assert answer.status_code == 400, body
        assert answer.json()["error"]["code"] == "not_a_webhook"


def test_same_webhook_three_times_gives_one_subscriber_and_one_reply(stack, new_phone, api):
    phone = new_phone()
    message_id = f"wamid.{uuid.uuid4().hex}"
    body = text_payload(BROADCAST, phone.e164[1:], "ATTIVA", message_id)
    for _ in range(3):
        assert post(stack, body, sign(stack.app_secret, body)).status_code == 200
    phone.wait_inbox(1)
    confirm = text_payload(BROADCAST, phone.e164[1:], "SI", f"wamid.{uuid.uuid4().hex}")
    for _ in range(3):
        assert post(stack, confirm, sign(stack.app_secret, confirm)).status_code == 200
    inbox = phone.wait_inbox(2)
    inbox = phone.settle(2.0)
    welcomes = [m for m in inbox if "Iscrizione confermata" in m["text"]]
    assert len(welcomes) == 1, [(m["id"], m["body"].get("biz_opaque_callback_data")) for m in inbox]
    assert len([m for m in inbox if m["text"].startswith("Ciao! Vuoi ricevere")]) == 1
    items = api.call("GET", "/api/v1/subscribers", role="communications",
                     params={"channel": BROADCAST, "q": phone.e164}).json()["items"]
    assert len(items) == 1 and items[0]["status"] == "active"


def _post_message(stack, phone, **fields) -> None:
    body = json.loads(text_payload(BROADCAST, phone.e164[1:], "x", f"wamid.{uuid.uuid4().hex}"))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message.update(fields)
    raw = json.dumps(body).encode()
    assert post(stack, raw, sign(stack.app_secret, raw)).status_code == 200


def test_unreadable_types_get_the_auto_answer_and_reactions_nothing(stack, new_phone):
    sticker, reaction = new_phone(), new_phone()
    _post_message(stack, sticker, type="sticker", sticker={"id": "1", "mime_type": "image/webp", "animated": False})
    _post_message(stack, reaction, type="reaction", reaction={"message_id": "wamid.x", "emoji": "👍"})
    [answer] = sticker.wait_inbox(1)
    assert "un operatore" in answer["text"]
    assert reaction.settle(1.5) == []


def test_statuses_update_the_delivery_without_going_back(stack, new_phone):
    """Out-of-order statuses: a late 'delivered' never overwrites 'read'."""
    from chalicelib.store import deliveries

    phone: Phone = new_phone()
    phone.text("AIUTO")
    sent = phone.wait_inbox(1)[0]
    job_id, recipient = sent["body"]["biz_opaque_callback_data"].split("|")
    wait_for(lambda: (d := deliveries.get(job_id, recipient)) and d.status == "read")

    late = status_body(sent, phone, "delivered")
    assert post(stack, late, sign(stack.app_secret, late)).status_code == 200
    phone.settle(1.0)
    assert deliveries.get(job_id, recipient).status == "read"


def test_a_webhook_of_sent_statuses_alone_is_answered_and_queued_nowhere(stack, new_phone):
    """'sent' is what the send itself recorded (a third of a broadcast's webhooks): a body of them alone is answered
    at once and given to no worker; one that also says 'failed' is queued, and the failure applied."""
    from chalicelib.store import deliveries

    phone: Phone = new_phone()
    phone.text("AIUTO")
    sent = phone.wait_inbox(1)[0]
    job_id, recipient = sent["body"]["biz_opaque_callback_data"].split("|")
    wait_for(lambda: (d := deliveries.get(job_id, recipient)) and d.status == "read")
    # nothing else on its way either: the sandbox holds no status of this or an earlier test to post
    wait_for(lambda: stack.sandbox.stats()["statuses_pending"] == 0
             and queued_messages(stack) + queued_messages(stack, "statuses") == 0)

    alone = status_body(sent, phone, "sent", "sent")
    answer = post(stack, alone, sign(stack.app_secret, alone))
    assert (answer.status_code, answer.json()) == (200, {"status": "nothing_to_apply"})
    assert queued_messages(stack) + queued_messages(stack, "statuses") == 0

    with_news = status_body(sent, phone, "sent", "failed")
    answer = post(stack, with_news, sign(stack.app_secret, with_news))
    assert (answer.status_code, answer.json()) == (200, {"status": "queued"})
    wait_for(lambda: deliveries.get(job_id, recipient).status == "failed")


def test_a_payload_bigger_than_an_sqs_message_is_queued_per_change(stack, new_phone):
    """Meta may post up to 3 MB; the queue holds 1 MiB per message."""
    phone = new_phone()
    statuses = [{"id": f"wamid.{n:06d}", "status": "delivered", "timestamp": "1795450000",
                 "recipient_id": "393330000000", "conversation": {"id": f"conversation-{n:06d}"},
                 "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility"}}
                for n in range(3000)]
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "390571000001", "phone_number_id": BROADCAST}}
    message = json.loads(text_payload(BROADCAST, phone.e164[1:], "AIUTO", f"wamid.{uuid.uuid4().hex}"))
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "messages", "value": {**value, "statuses": statuses}},
        {"field": "messages", "value": {**value, "statuses": statuses}},
        message["entry"][0]["changes"][0],
    ]}]}).encode()
    assert len(body) > 1_048_576
    assert post(stack, body, sign(stack.app_secret, body)).status_code == 200
    assert "ATTIVA" in phone.wait_inbox(1, timeout=30)[0]["text"]
