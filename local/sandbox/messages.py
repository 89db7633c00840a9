"""POST /{version}/{phone_number_id}/messages: a send checked as Meta checks it, then scripted, faulted or accepted."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import meta
from .channels import Channels
from .faults import Faults
from .httpd import DropConnection, Request, Response, json_response, parse_json
from .media import MediaStore
from .meta import GraphError
from .recorder import Recorder
from .settings import SendStep
from .statuses import StatusWebhooks
from .templates import Filled, Templates
from .validation import SendChecks, is_mark_read, validate_mark_read


class MessagesEndpoint:
    """Sends and marks as read; every refusal is counted in the stats, every accepted send recorded."""

    def __init__(self, *, authorize: Callable[[Request], None], channels: Channels, templates: Templates,
                 media: MediaStore, faults: Faults, recorder: Recorder, statuses: StatusWebhooks,
                 pause: Callable[[float], Any]):
        self._authorize, self._channels, self._faults = authorize, channels, faults
        self._templates, self._media = templates, media
        self._recorder, self._statuses, self._pause = recorder, statuses, pause

    def post(self, request: Request, channel_id: str) -> Response:
        try:
            self._authorize(request)
            channel = self._channels.require(channel_id)
            body = _graph_json(request.body)
            if isinstance(body, dict) and is_mark_read(body):
                return self._mark_read(channel, body)
            filled = self._checks(channel).validate(body)
        except GraphError:
            self._recorder.count("rejected")
            raise
        recipient = body.get("to") or body.get("recipient") or ""
        step = self._faults.next_step(recipient)
        if step is not None:
            return self._play(step, channel, body, filled)
        self._faults.random_fault()  # a 5xx before admission: a message that was not sent uses none of the throughput
        try:
            self._faults.throttle(channel_id)
            self._faults.recipient_error(recipient)
        except GraphError as error:
            self._recorder.count("rate_limited" if error.code == 130429 else "rejected")
            raise
        self._wait(self._faults.slowness())
        later = self._faults.later_error(recipient)
        if later is not None:
            return self._accept_then_fail(channel, body, later)
        return self._accept(channel, body, filled)

    def _checks(self, channel: dict[str, Any]) -> SendChecks:
        """What Meta checks a send of this number against: its account's templates, the media uploaded."""
        return SendChecks(lambda name, language: self._templates.require(channel["waba_id"], name, language),
                          self._media)

    def _mark_read(self, channel: dict[str, Any], body: dict[str, Any]) -> Response:
        validate_mark_read(body)
        self._recorder.read(channel["phone_number_id"], body)
        return json_response(200, {"success": True})

    def _play(self, step: SendStep, channel: dict[str, Any], body: dict[str, Any], filled: Filled | None) -> Response:
        """A scripted answer: wait, deliver (or not), then answer an error, a raw body, nothing, or success."""
        self._wait(step.delay)
        accepted = self._accept(channel, body, filled) if step.deliver else None
        if step.drop:
            raise DropConnection()
        if step.code is not None:
            headers = {"Retry-After": f"{step.retry_after:g}"} if step.retry_after is not None else {}
            raise GraphError(step.code, f"Scripted error {step.code}", http_status=step.http_status, headers=headers)
        if step.body is not None:
            return Response(step.http_status or 200, step.body.encode(), "text/html; charset=utf-8")
        return accepted or self._accept(channel, body, filled)

    def _wait(self, seconds: float | None) -> None:
        if seconds:
            self._pause(seconds)

    def _accept(self, channel: dict[str, Any], body: dict[str, Any], filled: Filled | None) -> Response:
        record = self._recorder.sent(meta.new_wamid(), channel["phone_number_id"], body, filled)
        self._statuses.schedule(record, body)
        return _accepted(body, record.id)

    def _accept_then_fail(self, channel: dict[str, Any], body: dict[str, Any], code: int) -> Response:
        """Meta takes the send, then reports it failed in a status webhook: nothing reaches the phone."""
        wamid = meta.new_wamid()
        self._recorder.count("failed_later")
        self._statuses.schedule_failure(wamid, channel["phone_number_id"], body, GraphError(code).webhook_error())
        return _accepted(body, wamid)


def _accepted(body: dict[str, Any], wamid: str) -> Response:
    """Meta's answer to a send it took."""
    to, recipient = body.get("to") or "", body.get("recipient") or ""
    wa_id = meta.digits_only(to) if to else None
    contact = {"input": to or recipient, **({"wa_id": wa_id} if wa_id else {"user_id": recipient})}
    return json_response(200, {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]})


def _graph_json(raw: bytes) -> Any:
    try:
        return parse_json(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise GraphError(100, f"The request body is not valid JSON: {error}") from None
