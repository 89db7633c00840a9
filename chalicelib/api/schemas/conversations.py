"""The staff API's answers for two-way conversations ("Messaggi"): the list, one conversation, an answer."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.api.schemas.common import Answer, Count, Query, page_size
from chalicelib.domain import conversations

ConversationStatus = Literal[conversations.STATUSES]


class ConversationPerson(Answer):
    subject: str = Field(description="The staff member's stable id (the token's subject).")
    name: str


class ConversationSummary(Answer):
    id: str = Field(description="<channel id>.<citizen key>, as the other operations take it (URL-encoded).")
    channel: str
    channel_kind: Literal["broadcast", "reports", "safety"]
    channel_name: str
    phone: str | None
    user_id: str | None = Field(description="WhatsApp's business-scoped user id, when the number is not known.")
    name: str | None = Field(description="The WhatsApp profile name the citizen set.")
    status: ConversationStatus = Field(description="open, or done (\"Fatto\"); a citizen's new message opens it again.")
    unread: bool = Field(description="A citizen's message no staff member has opened yet.")
    assignee: ConversationPerson | None
    last_at: datetime | None
    last_text: str = Field(description="The start of the latest message.")
    last_direction: Literal["in", "out"] | None


class ConversationList(Answer):
    """The caller's conversations, latest message first (audited)."""

    items: list[ConversationSummary]


class ConversationQuery(Query):
    status: ConversationStatus | None = Field(None, description="open or done; absent: both.")
    mine: Literal["true", "false"] | None = Field(None, description="true: only those assigned to the caller.")
    limit: int = page_size(50)


class UnreadConversations(Answer):
    """How many of the caller's conversations have a message nobody opened (the menu's badge; at most 999)."""

    count: Count


class ConversationMessage(Answer):
    """One message: the citizen's (in) or a staff answer (out) with its delivery status."""

    id: str
    direction: Literal["in", "out"]
    at: datetime
    text: str = Field(description="What was written (a photo's caption, a tapped button's title; may be empty).")
    kind: str = Field(examples=["text", "image", "template"])
    author: ConversationPerson | None = Field(description="Who answered (staff answers only).")
    delivery: Literal["queued", "sent", "delivered", "read", "failed", "skipped"] | None = Field(description=(
        "A staff answer's delivery, from WhatsApp's status webhooks; null for the citizen's messages."))


class ReplyTemplateOffer(Answer):
    name: str
    language: str
    purpose: Literal["notice", "report_update"]
    parameters: Count = Field(description="How many parameters it takes.")
    body: str = Field(description="Its approved text with {{1}}, {{2}}...; empty when the comune did not declare it.")


class ConversationWindow(Answer):
    open: bool = Field(description="The citizen wrote in the last 24 hours: free text reaches them.")
    closes_at: datetime | None


class Conversation(ConversationSummary):
    """One conversation with its messages (the latest 60), the 24-hour window and, outside it, the templates staff
    may send instead. Reading it marks it read (audited)."""

    messages: list[ConversationMessage]
    window: ConversationWindow
    templates: list[ReplyTemplateOffer] = Field(description="Outside the window: the channel's approved templates.")
    assignees: list[ConversationPerson] | None = Field(None, description="When read: the colleagues it may be "
                                                      "assigned to (staff who signed in with a role that answers this "
                                                      "channel's conversations).")


class WindowClosedBody(Answer):
    code: Literal["window_closed"]
    message: str = Field(description="Why, in Italian, for staff.")
    templates: list[ReplyTemplateOffer] = Field(description="The channel's approved templates: send one instead.")


class WindowClosed(Answer):
    """Free text cannot reach the citizen: their last message is over 24 hours old; send an approved template."""

    error: WindowClosedBody
