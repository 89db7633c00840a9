"""A channel's WhatsApp message templates (api/templates.py): as Meta holds them, and which serves each purpose."""
from __future__ import annotations

from pydantic import Field

from chalicelib.api.schemas.common import Answer, Query


class TemplatePurpose(Answer):
    """The template that serves a purpose."""

    name: str
    language: str


class WhatsAppTemplate(Answer):
    """One template as Meta holds it, with its texts as WhatsApp shows them."""

    id: str = Field(description="Meta's id of the template.")
    name: str
    language: str
    category: str = Field(examples=["UTILITY"], description="UTILITY, MARKETING or AUTHENTICATION.")
    status: str = Field(examples=["APPROVED"], description="PENDING, APPROVED, REJECTED, PAUSED, DISABLED...")
    rejected_reason: str | None = Field(description="Why Meta rejected it (INVALID_FORMAT, TAG_CONTENT_MISMATCH...).")
    previous_category: str | None = Field(description="The category asked for, when Meta re-categorised it.")
    header: str
    body: str = Field(description="With {{1}}, {{2}}... where the parameters go.")
    footer: str
    buttons: list[str] = Field(description="Quick-reply buttons' texts.")
    parameters: int = Field(description="How many body parameters it takes (-1: not positional).")
    serves: list[str] = Field(description="The channel's purposes it serves (notice, subscription_confirm...).")
    fits: dict[str, bool] = Field(description="Per purpose of the channel's kind: whether it may serve it.")
    updated_at: str | None


class TemplateList(Answer):
    """A channel's templates as WhatsApp holds them, and which serves each of the channel's purposes."""

    channel: str
    items: list[WhatsAppTemplate]
    purposes: dict[str, TemplatePurpose] = Field(description="Which template serves each purpose of the channel.")


class TemplateQuery(Query):
    fit: str | None = Field(None, description="notice: only the approved templates a broadcast may use.",
                            pattern="^notice$")



