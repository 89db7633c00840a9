"""What a broadcast's recipients receive: the full text inside the 24-hour window; outside it, the channel's notice
template (a one-line title and a quick reply, "Leggi l'avviso"), whose tap opens the window and gets the full text
free-form (issue 13: a template parameter can hold neither new lines nor 1,500 characters, so the text never goes
as one)."""
from __future__ import annotations

from chalicelib.domain import whatsapp
from chalicelib.domain.broadcasts import is_notice_tap, notice_id, notice_payload, notice_title
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.providers.base import Content, Image, Template, Text
from chalicelib.services.admin import templates
from chalicelib.store import broadcasts
from chalicelib.store.broadcasts import Broadcast


def message_for(broadcast: Broadcast, channel: Channel, tenant: Tenant) -> tuple[Content, Template | None]:
    """What goes out: the content as staff wrote it, and the template for recipients outside the window (None when
    the content is a template already, or the channel has no notice template)."""
    content = broadcast.content
    if "template" in content:
        chosen = content["template"]
        return Template(name=chosen["name"], language=chosen.get("language", tenant.language),
                        body_params=chosen.get("parameters", []), header_image_link=content.get("image_url"),
                        button_payloads=_payloads(broadcast, channel, chosen["name"])), None
    return full_message(broadcast), notice_template(broadcast, channel)


def full_message(broadcast: Broadcast) -> Content | None:
    """A free-text broadcast as staff wrote it: its text, or its image with the text as caption; None for a
    template broadcast, which has no text beyond its parameters."""
    text = broadcast.content.get("text")
    if text is None:
        return None
    image = broadcast.content.get("image_url")
    return Image(link=image, caption=text) if image else Text(body=text)


def title_of(broadcast: Broadcast) -> str:
    """The title staff gave, or the one taken from the first line (broadcasts older than titles have none)."""
    return broadcast.content.get("title") or notice_title(broadcast.content.get("text") or "")


def notice_template(broadcast: Broadcast, channel: Channel) -> Template | None:
    """The channel's notice template with the broadcast's title, and its button's payload naming the broadcast.
    No image header: the image comes with the text after the tap, so one template serves every broadcast."""
    notice = channel.template("notice")
    if notice is None:
        return None
    return Template(name=notice.name, language=notice.language, body_params=[title_of(broadcast)],
                    button_payloads=[notice_payload(broadcast.id)])


def _payloads(broadcast: Broadcast, channel: Channel, name: str) -> list[str]:
    """Staff sending the notice template by name: its button still names the broadcast (a tap is answered)."""
    notice = channel.template("notice")
    return [notice_payload(broadcast.id)] if notice is not None and notice.name == name else []


# ---- the tap ------------------------------------------------------------------------------------------------

class NoNotice(LookupError):
    """A tap names no broadcast that went out on this channel: an unknown, malformed or foreign id, or a draft."""


def after_tap(tenant: Tenant, channel: Channel, payload: str) -> Content | None:
    """What a citizen who tapped "Leggi l'avviso" receives: the broadcast's full text (or image and text); None
    when it has none (staff sent a template); NoNotice when the payload names no broadcast this channel sent."""
    broadcast_id = notice_id(payload) if is_notice_tap(payload) else None
    broadcast = broadcasts.get(tenant.id, broadcast_id) if broadcast_id else None
    if broadcast is None or broadcast.channel_id != channel.phone_number_id or broadcast.started_at is None:
        raise NoNotice(payload[:80])
    return full_message(broadcast)


# ---- what the preview shows -----------------------------------------------------------------------------------

def shown(content: Content, channel: Channel) -> dict:
    """One message as the preview describes it: its kind and what the citizen reads; a template's name, parameters,
    and (when the channel declared its approved texts) its text and buttons."""
    if isinstance(content, Text):
        return {"kind": "text", "text": content.body}
    if isinstance(content, Image):
        return {"kind": "image", "text": content.caption or "", "image_url": content.link}
    declared = templates.described(channel, content.name)
    described = {"kind": "template", "template": content.name, "parameters": list(content.body_params)}
    if declared is not None and declared.body:
        filled = whatsapp.fill(declared.body, list(content.body_params))
        described["text"] = "\n".join(part for part in (filled, declared.footer) if part)
    if declared is not None and declared.buttons:
        described["buttons"] = list(declared.buttons)
    if content.header_image_link:
        described["image_url"] = content.header_image_link
    return described
