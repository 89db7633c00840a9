"""Subscribing to a broadcast channel: keywords, double opt-in, preferences, opt-out, the consent ledger."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain import subscriptions as rules
from chalicelib.domain.broadcasts import is_notice_tap
from chalicelib.domain.keywords import Command, parse_command
from chalicelib.domain.phones import mask
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.observability import logger
from chalicelib.providers.base import Buttons, Choice, ChoiceList, InboundMessage, Template, Text
from chalicelib.services.broadcasts import notice
from chalicelib.services.conversations import inbox
from chalicelib.services.replies import Conversation
from chalicelib.store import citizens
from chalicelib.store.citizens import ConsentEntry

PURPOSE = "broadcast"  # what the citizen consents to: the comune's notices on this channel
CONFIRM_ID, DECLINE_ID = "sub:confirm", "sub:decline"
HAMLET_PREFIX, TOPIC_PREFIX, ALL = "hamlet:", "topic:", "*"
LIST_ROWS_MAX = 10


class Talk(Conversation):
    """One inbound message of a citizen on a broadcast channel, and the replies it earns."""

    def ledger(self, action: str, path: str) -> None:
        citizens.record_consent(ConsentEntry(
            channel_id=self.channel.phone_number_id, citizen_key=self.citizen.key, tenant_id=self.tenant.id,
            action=action, purpose=PURPOSE, path=path, recorded_at=self.now,
            notice_version=self.tenant.privacy_notice_version, message_id=self.message.message_id,
        ))


def handle_message(tenant: Tenant, channel: Channel, citizen: Citizen, message: InboundMessage,
                   now: datetime) -> Talk:
    """Apply one message to the citizen's subscription; the talk holds the citizen to save and the replies to
    queue once it is saved (services.inbound)."""
    talk = Talk(tenant, channel, citizen, message, now)
    reply_id = message.reply.id if message.reply else None
    if is_notice_tap(reply_id):
        _read_notice(talk, reply_id)
    elif reply_id and reply_id.startswith(HAMLET_PREFIX):
        _choose_hamlet(talk, reply_id.removeprefix(HAMLET_PREFIX))
    elif reply_id and reply_id.startswith(TOPIC_PREFIX):
        _choose_topic(talk, reply_id.removeprefix(TOPIC_PREFIX))
    else:
        _on_command(talk, _command_of(message))
    return talk


def _command_of(message: InboundMessage) -> Command | None:
    if message.reply:
        return {CONFIRM_ID: Command.CONFIRM, DECLINE_ID: Command.DECLINE}.get(message.reply.id) \
            or parse_command(message.reply.title)
    return parse_command(message.text) if message.kind == "text" else None


def _on_command(talk: Talk, command: Command | None) -> None:
    status = talk.citizen.status
    if command is Command.SUBSCRIBE or (command is Command.CONFIRM and talk.message.reply and status != "pending"):
        _subscribe(talk)
    elif command is Command.CONFIRM and status == "pending":
        _confirm(talk)
    elif command is Command.DECLINE and status == "pending":
        talk.citizen = rules.decline(talk.citizen, talk.now)
        talk.say("subscribe.declined")
    elif command is Command.UNSUBSCRIBE:
        _unsubscribe(talk)
    elif command is Command.HELP:
        talk.say("help.broadcast")
    elif command is Command.PREFERENCES and talk.citizen.active:
        talk.citizen = replace(talk.citizen, step="hamlets")
        question = _hamlet_question(talk) or _topic_question(talk)
        talk.replies.append(question or Text(body=_saved(talk)))
    elif status == "pending":
        talk.say("subscribe.pending_reminder")
    else:  # free text no flow takes (a reply to a broadcast, a question): staff read it in Messaggi
        inbox.keep(talk.tenant, talk.channel, talk.citizen, talk.message, talk.now)
        talk.replies.append(Text(body=_auto_reply(talk)))


def _subscribe(talk: Talk) -> None:
    if talk.citizen.active:
        talk.say("subscribe.already")
        return
    talk.citizen = rules.request(talk.citizen, "keyword", talk.now)
    talk.replies.append(_confirm_request(talk))


def _confirm_request(talk: Talk) -> Buttons:
    return Buttons(body=talk.text("subscribe.confirm_request"), buttons=[
        Choice(id=CONFIRM_ID, title=talk.text("subscribe.confirm_button")),
        Choice(id=DECLINE_ID, title=talk.text("subscribe.decline_button")),
    ])


def _confirm(talk: Talk) -> None:
    path = talk.citizen.source or "keyword"
    talk.citizen = rules.confirm(talk.citizen, talk.now)
    talk.ledger("grant", path)
    talk.say("subscribe.welcome")
    if talk.citizen.hamlets or talk.citizen.topics:  # chosen on the web form already
        talk.citizen = replace(talk.citizen, step=None)
        return
    question = _hamlet_question(talk) or _topic_question(talk)
    if question:
        talk.replies.append(question)


def _unsubscribe(talk: Talk) -> None:
    was = talk.citizen.status
    if was not in ("active", "pending"):
        talk.say("unsubscribe.not_subscribed")
        return
    talk.citizen = rules.stop(talk.citizen, talk.now)
    if was == "active":
        talk.ledger("withdraw", "keyword")
    talk.say("unsubscribe.done")
    logger.info("subscriber stopped", extra={"channel": talk.channel.phone_number_id,
                                             "citizen": mask(talk.citizen.phone)})


def _hamlet_question(talk: Talk) -> ChoiceList | None:
    hamlets = talk.tenant.hamlets[: LIST_ROWS_MAX - 1]
    if not hamlets:
        talk.citizen = replace(talk.citizen, step="topics")
        return None
    rows = [Choice(id=HAMLET_PREFIX + ALL, title=talk.text("preferences.all_hamlets"))]
    rows += [Choice(id=HAMLET_PREFIX + h.id, title=h.list_title) for h in hamlets]
    return ChoiceList(body=talk.text("preferences.hamlets_body"), button=talk.text("preferences.hamlets_button"),
                      rows=rows)


def _topic_question(talk: Talk) -> ChoiceList | None:
    topics = talk.tenant.topics[: LIST_ROWS_MAX - 1]
    if not topics:
        talk.citizen = replace(talk.citizen, step=None)
        return None
    rows = [Choice(id=TOPIC_PREFIX + ALL, title=talk.text("preferences.all_topics"))]
    rows += [Choice(id=TOPIC_PREFIX + t.id, title=t.list_title) for t in topics]
    return ChoiceList(body=talk.text("preferences.topics_body"), button=talk.text("preferences.topics_button"),
                      rows=rows)


def _read_notice(talk: Talk, payload: str) -> None:
    """"Leggi l'avviso" on a notice outside the window: the tap opened the window, so the full text goes free-form."""
    try:
        full = notice.after_tap(talk.tenant, talk.channel, payload)
    except notice.NoNotice:
        talk.say("notice.unavailable")
        return
    if full is None:
        talk.say("notice.nothing_more")
    else:
        talk.replies.append(full)


def _choose_hamlet(talk: Talk, hamlet_id: str) -> None:
    if not talk.citizen.active:
        talk.say("unsubscribe.not_subscribed")
        return
    chosen = talk.tenant.hamlet(hamlet_id)
    talk.citizen = rules.choose_hamlet(talk.citizen, chosen.id if chosen else None)
    question = _topic_question(talk)
    talk.replies.append(question or Text(body=_saved(talk)))


def _choose_topic(talk: Talk, topic_id: str) -> None:
    if not talk.citizen.active:
        talk.say("unsubscribe.not_subscribed")
        return
    chosen = talk.tenant.topic(topic_id)
    talk.citizen = rules.choose_topic(talk.citizen, chosen.id if chosen else None)
    talk.replies.append(Text(body=_saved(talk)))


def _saved(talk: Talk) -> str:
    everything = talk.text("preferences.everything")
    hamlets = ", ".join(h.name for h in talk.tenant.hamlets if h.id in talk.citizen.hamlets) or everything
    topics = ", ".join(t.name for t in talk.tenant.topics if t.id in talk.citizen.topics) or everything
    return talk.text("preferences.saved", hamlets=hamlets, topics=topics)


def _auto_reply(talk: Talk) -> str:
    reports_number = talk.channel.settings.reports_number
    hint = talk.text("auto_reply.reports_hint", reports_number=reports_number) if reports_number else ""
    return talk.text("auto_reply.broadcast", reports_hint=hint)


class NoTemplate(LookupError):
    """The channel lacks the approved template a business-initiated message needs."""


def web_form_confirmation(tenant: Tenant, channel: Channel) -> Template:
    """The approved template that asks a web-form subscriber to confirm on WhatsApp."""
    template = channel.template("subscription_confirm")
    if not template:
        raise NoTemplate("this channel has no approved confirmation template")
    return Template(name=template.name, language=template.language, body_params=[tenant.name],
                    button_payloads=[CONFIRM_ID])
