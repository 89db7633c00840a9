"""The sandbox's settings (configure() and POST /_sandbox/config): one pydantic model, bounds and defaults."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0, le=120.0)]


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise PydanticCustomError("http_url", "must be an http(s) URL")
    return value


class SettingsError(ValueError):
    """Settings the sandbox refuses (HTTP 422 on POST /_sandbox/config)."""


class SendStep(BaseModel):
    """One scripted answer to a send: an error code (613 is short for {"code": 613}) or an object of these keys."""

    model_config = ConfigDict(strict=True, extra="forbid", use_attribute_docstrings=True)

    code: int | None = None
    """Answer this Graph error code (Meta's error body); none: no error."""
    http_status: int | None = Field(None, ge=200, le=599)
    """The HTTP status of the error or of `body`; none: Meta's status for the code, or 200 for a body."""
    retry_after: Seconds | None = None
    """Seconds for a Retry-After header on the error; none: no header."""
    body: str | None = None
    """Answer this raw text instead of JSON (text/html), e.g. a proxy's error page; none: a JSON answer."""
    delay: Seconds | None = None
    """Seconds to wait before answering, e.g. longer than the client's timeout; none: no wait."""
    drop: bool = False
    """Close the connection without an answer, as a crashed server or a proxy would; default false."""
    deliver: bool | None = None
    """The message reaches the phone whatever the answer says; default: true only for a step that answers no error,
    body or drop (one that just waits)."""

    @model_validator(mode="before")
    @classmethod
    def _code_or_object(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return {"code": value}
        if not value:
            raise PydanticCustomError("empty_step", "a step is an error code or an object with some of {keys}",
                                      {"keys": ", ".join(cls.model_fields)})
        return value

    @model_validator(mode="after")
    def _deliver_default(self) -> SendStep:
        if self.deliver is None:
            self.deliver = not (self.code is not None or self.body is not None or self.drop)
        return self


class SandboxSettings(BaseModel):
    """What configure() and POST /_sandbox/config can change; every field has its default here."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, use_attribute_docstrings=True)

    fault_rate: Share = 0.0
    """Share of sends (0 to 1) answered 500 with code 131000 before the rate limit counts them; default 0."""
    slow_rate: Share = 0.0
    """Share of accepted sends (0 to 1) answered only after `slow_seconds`; default 0."""
    slow_seconds: Seconds = 2.0
    """How long a slow send waits before its answer (0 to 120 seconds); default 2."""
    recipient_errors: dict[str, int] = {}
    """Recipient (phone number or BSUID) -> the error code every send to it answers, e.g. 131026; default none."""
    status_errors: dict[str, int] = {}
    """Recipient -> an error code its sends fail with later: accepted, then a `failed` status webhook carries the
    error (as Meta reports 131049, 131048...), and nothing reaches the phone; default none."""
    rate_limit: float = Field(80.0, gt=0.0)
    """Sends per second per phone number before 429 (code 130429); default 80, Meta's standard throughput."""
    status_webhooks: bool = True
    """Post sent, delivered and read statuses to the app for each accepted send; default true."""
    status_delay: Seconds = 0.2
    """Seconds between an accepted send and its sent status, and between sent, delivered and read; default 0.2."""
    status_batch_seconds: Seconds = 0.0
    """Gather statuses this long between posts, as Meta batches them (up to 1,000 a post); default 0."""
    statuses_per_post: int = Field(1000, ge=1, le=1000)
    """At most this many statuses in one webhook POST; 1 posts each status on its own, as Meta mostly does
    (three POSTs per message: sent, delivered, read); default 1,000."""
    status_posters: int = Field(1, ge=1, le=32)
    """Status POSTs in flight at once (Meta posts concurrently); default 1."""
    seed: int = 0
    """Seed of the random draws behind fault_rate and slow_rate, for reproducible runs; default 0."""
    webhook_url: Annotated[str, AfterValidator(_http_url)] = "http://127.0.0.1:8000/"
    """The app's webhook, where inbound messages and statuses are posted; the server's constructor sets it."""
    media_faults: int = Field(0, ge=0)
    """The next N media lookups (GET /{version}/{media_id}) answer 500 (131000), for the app's retries; default 0."""
    send_script: dict[str, list[SendStep]] = {}
    """Recipient -> the answers to its next sends, in order (see SendStep); then sends are accepted as usual."""

    def updated(self, changes: Mapping[str, Any]) -> SandboxSettings:
        """These settings with `changes` applied; raise SettingsError, naming each bad key, on bad ones."""
        unknown = sorted(set(changes) - set(SandboxSettings.model_fields))
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(unknown)}; known: {', '.join(SandboxSettings.model_fields)}")
        try:
            checked = SandboxSettings.model_validate(changes)
        except ValidationError as error:
            raise SettingsError(_describe(error)) from None
        return self.model_copy(update={name: getattr(checked, name) for name in changes})

    def as_json(self) -> dict[str, Any]:
        """The settings as GET /_sandbox/config shows them (a step lists only the keys it sets, drop and deliver)."""
        return self.model_dump(mode="json", exclude_none=True)


def _describe(error: ValidationError) -> str:
    """One line per problem: where, what is wrong, and the value given."""
    return "; ".join(f"{_where(problem['loc'])}: {_what(problem)} (got {problem['input']!r})"
                     for problem in error.errors(include_url=False))


def _what(problem: ErrorDetails) -> str:
    return "not a known key" if problem["type"] == "extra_forbidden" else problem["msg"]


def _where(loc: tuple[int | str, ...]) -> str:
    """send_script['+393331234567'][0].http_status for ('send_script', '+393331234567', 0, 'http_status')."""
    path = str(loc[0])
    for part in loc[1:]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier():
            path += f".{part}"
        else:
            path += f"[{part!r}]"
    return path
