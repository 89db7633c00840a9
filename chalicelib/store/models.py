"""PynamoDB models, one per table of resources.TABLES (a test keeps the two in step)."""
from __future__ import annotations

import os

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.resources import table_name


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-south-1"


class _Meta:
    billing_mode = "PAY_PER_REQUEST"


class TenantModel(Model):
    """A comune: its name, hamlets (with GeoJSON outlines), topics and privacy notice."""

    class Meta(_Meta):
        table_name = table_name("tenants")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    settings = JSONAttribute(default=dict)
    version = NumberAttribute(null=True)  # a new one at every save: an admin's save names the one it read


class TenantChannelsIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-tenant"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)


class ChannelModel(Model):
    """One WhatsApp number of a tenant, keyed by the provider's phone-number id."""

    class Meta(_Meta):
        table_name = table_name("channels")
        region = _region()

    phone_number_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # broadcast, reports or safety
    name = UnicodeAttribute()
    display_phone_number = UnicodeAttribute()
    settings = JSONAttribute(default=dict)
    version = NumberAttribute(null=True)  # a new one at every save: an admin's save names the one it read
    waba_id = UnicodeAttribute(null=True)  # its WhatsApp Business Account (templates belong to it)
    by_tenant = TenantChannelsIndex()


class ActiveSubscribersIndex(GlobalSecondaryIndex):
    """Sparse: only active subscribers carry active_channel, so fan-out pages exactly them."""

    class Meta:
        index_name = "active"
        projection = AllProjection()

    active_channel = UnicodeAttribute(hash_key=True)
    citizen_key = UnicodeAttribute(range_key=True)


class RecentInboundIndex(GlobalSecondaryIndex):
    """Sparse: active subscribers by the UTC day of their last message ("<channel>#YYYY-MM-DD") and its time, so a
    preview reads only those who wrote lately (inside the 24-hour window), not the whole channel."""

    class Meta:
        index_name = "recent"
        projection = AllProjection()

    inbound_day = UnicodeAttribute(hash_key=True)
    last_inbound_at = UTCDateTimeAttribute(range_key=True)


class CitizenModel(Model):
    """A citizen as seen by one channel: identity, subscription, preferences, conversation step."""

    class Meta(_Meta):
        table_name = table_name("citizens")
        region = _region()

    channel_id = UnicodeAttribute(hash_key=True)
    citizen_key = UnicodeAttribute(range_key=True)  # E.164 phone, else "bsuid:<user id>"
    tenant_id = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="none")  # none, pending, active, stopped
    active_channel = UnicodeAttribute(null=True)
    hamlets = ListAttribute(of=UnicodeAttribute, null=True)
    topics = ListAttribute(of=UnicodeAttribute, null=True)
    step = UnicodeAttribute(null=True)  # where the conversation is: confirm, hamlets, topics
    source = UnicodeAttribute(null=True)  # keyword, web_form, staff
    name = UnicodeAttribute(null=True)  # registered residents (safety channel)
    address = UnicodeAttribute(null=True)
    hamlet = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    subscribed_at = UTCDateTimeAttribute(null=True)
    stopped_at = UTCDateTimeAttribute(null=True)
    last_inbound_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)  # set while nothing binds us to keep the record
    active = ActiveSubscribersIndex()
    inbound_day = UnicodeAttribute(null=True)  # active only: "<channel>#<UTC day of last_inbound_at>"
    recent = RecentInboundIndex()


class ConsentModel(Model):
    """Append-only ledger of consent grants and withdrawals, the proof the GDPR asks for."""

    class Meta(_Meta):
        table_name = table_name("consents")
        region = _region()

    subject = UnicodeAttribute(hash_key=True)  # "<channel id>#<citizen key>"
    recorded_at = UnicodeAttribute(range_key=True)  # ISO time + "#" + unique suffix
    tenant_id = UnicodeAttribute()
    channel_id = UnicodeAttribute()
    action = UnicodeAttribute()  # grant or withdraw
    purpose = UnicodeAttribute()
    path = UnicodeAttribute()  # keyword, web_form, staff_import, staff, erasure
    notice_version = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(null=True)


class DeliveryModel(Model):
    """One recipient's result for one message (or a job's lease); written by store.deliveries."""

    class Meta(_Meta):
        table_name = table_name("deliveries")
        region = _region()

    job_id = UnicodeAttribute(hash_key=True)  # a reply job, or "<broadcast id>#<shard>"
    recipient = UnicodeAttribute(range_key=True)  # citizen key, or "#lease" for the job's lease
    tenant_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)  # sent, delivered, read, failed, skipped
    status_rank = NumberAttribute(null=True)
    recorded_at = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    error_class = UnicodeAttribute(null=True)
    error_code = NumberAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    leased_until = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class AuditModel(Model):
    """Append-only log of staff reads and changes of personal data."""

    class Meta(_Meta):
        table_name = table_name("audit")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)  # ISO time + "#" + unique suffix
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    request_id = UnicodeAttribute(null=True)
    actor_name = UnicodeAttribute(null=True)  # the display name at the time (older entries: none)
    change = UnicodeAttribute(null=True)  # a change's {"before": ..., "after": ...} as JSON (audit.CHANGE_MAX)
    expires_at = TTLAttribute(null=True)


class PrivacyRequestModel(Model):
    """A data subject's request the privacy desk handled (store/privacy_log.py): never the number itself."""

    class Meta(_Meta):
        table_name = table_name("privacy_requests")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)  # ISO time + "#" + unique suffix
    kind = UnicodeAttribute()  # erase, export
    outcome = UnicodeAttribute()  # done, failed
    actor = UnicodeAttribute()
    actor_name = UnicodeAttribute(null=True)
    subject_masked = UnicodeAttribute()  # +39******21
    subject_hash = UnicodeAttribute()  # a keyed hash: a repeat request matches, the number cannot be read back
    summary = UnicodeAttribute(null=True)  # JSON: what was done (counts), bounded
    expires_at = TTLAttribute(null=True)


class StaffModel(Model):
    """A staff member of a comune as their token last named them: who may be assigned a report."""

    class Meta(_Meta):
        table_name = table_name("staff")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    subject = UnicodeAttribute(range_key=True)  # the identity provider's stable id (Cognito's sub)
    name = UnicodeAttribute()
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    seen_at = UTCDateTimeAttribute(null=True)  # their last sign-in to the console; none yet for one invited
    expires_at = TTLAttribute(null=True)  # forgotten a while after their last sign-in (never once managed)
    # Set once an administrator invites or changes the member (services/admin/staff.py): from then on the roster,
    # not the token, says which roles they hold and whether they may sign in.
    managed = BooleanAttribute(null=True)
    enabled = BooleanAttribute(null=True)  # False: disabled by an administrator, every request refused
    teams = ListAttribute(of=UnicodeAttribute, null=True)  # the comune's report teams they belong to
    email = UnicodeAttribute(null=True)
    username = UnicodeAttribute(null=True)  # the identity provider's user name (Cognito's cognito:username)
    invited_at = UTCDateTimeAttribute(null=True)


class CounterModel(Model):
    """Fixed-window counters for abuse limits."""

    class Meta(_Meta):
        table_name = table_name("counters")
        region = _region()

    counter_key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


class DueBroadcastsIndex(GlobalSecondaryIndex):
    """Sparse: only scheduled broadcasts carry due_bucket, so the scheduler reads exactly those due."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_bucket = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class BroadcastModel(Model):
    """A message to the subscribers of a channel, its audience, schedule, progress and counters."""

    class Meta(_Meta):
        table_name = table_name("broadcasts")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    broadcast_id = UnicodeAttribute(range_key=True)  # sortable by creation time
    channel_id = UnicodeAttribute()
    status = UnicodeAttribute()  # draft, scheduled, sending, paused, completed, cancelled
    content = JSONAttribute()
    audience = JSONAttribute(default=dict)
    priority = UnicodeAttribute(default="normal")
    send_at = UnicodeAttribute()
    due_at = UnicodeAttribute()
    due_bucket = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    started_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    pause_reason = UnicodeAttribute(null=True)
    cursor = JSONAttribute(null=True)  # the fan-out checkpoint: where the next page starts
    page = NumberAttribute(default=0)  # pages fanned out so far
    fanout_done = BooleanAttribute(default=False)
    recipients = NumberAttribute(default=0)
    sent = NumberAttribute(default=0)
    delivered = NumberAttribute(default=0)
    read = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    failed_on_send = NumberAttribute(default=0)
    ambiguous = NumberAttribute(default=0)  # sends with an unknown outcome (retried, maybe twice)
    failed_by_reason = MapAttribute(default=dict)
    due = DueBroadcastsIndex()


class ReporterIndex(GlobalSecondaryIndex):
    """Sparse: the reports a citizen sent on a channel, newest last (STATO, the 15-minute draft)."""

    class Meta:
        index_name = "by-reporter"
        projection = AllProjection()

    reporter = UnicodeAttribute(hash_key=True)  # "<channel id>#<citizen key>"
    report_id = UnicodeAttribute(range_key=True)


class PublicTokenIndex(GlobalSecondaryIndex):
    """The citizen's status page finds its report by an unguessable token, never by number."""

    class Meta:
        index_name = "by-token"
        projection = AllProjection()

    public_token = UnicodeAttribute(hash_key=True)


class UnseenIndex(GlobalSecondaryIndex):
    """Sparse: only the new reports nobody has opened carry unseen ("<tenant>#<kind>"), so the console's badge
    is one small Query however many reports a comune keeps."""

    class Meta:
        index_name = "unseen"
        projection = AllProjection()

    unseen = UnicodeAttribute(hash_key=True)
    report_id = UnicodeAttribute(range_key=True)


class ReportModel(Model):
    """A report or safety tip: what, where, photos, who, the lifecycle and its history."""

    class Meta(_Meta):
        table_name = table_name("reports")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    report_id = UnicodeAttribute(range_key=True)  # "2026-0000042": year and number, sortable
    number = UnicodeAttribute()  # "2026/42"
    kind = UnicodeAttribute()  # report or safety
    status = UnicodeAttribute()
    source = UnicodeAttribute(default="whatsapp")
    channel_id = UnicodeAttribute(null=True)
    citizen_key = UnicodeAttribute(null=True)
    reporter = UnicodeAttribute(null=True)
    contact = JSONAttribute(null=True)
    text = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    hamlet = UnicodeAttribute(null=True)
    position = JSONAttribute(null=True)  # {"latitude", "longitude", "address"}
    address = UnicodeAttribute(null=True)
    photos = JSONAttribute(default=list)
    team = UnicodeAttribute(null=True)
    assignee = UnicodeAttribute(null=True)  # a staff member's subject (StaffModel)
    assignee_name = UnicodeAttribute(null=True)  # their name when assigned, for lists
    external = JSONAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    duplicate_of = UnicodeAttribute(null=True)
    followers = ListAttribute(of=UnicodeAttribute, null=True)
    public_token = UnicodeAttribute()
    search_text = UnicodeAttribute(null=True)  # normalised number, text and address for the staff search
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    last_citizen_at = UTCDateTimeAttribute(null=True)
    first_response_at = UTCDateTimeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)
    events = JSONAttribute(default=list)
    public_text = JSONAttribute(null=True)  # the approved public title and description (domain Report.public_text)
    expires_at = TTLAttribute(null=True)  # set when the report is closed: retention
    version = VersionAttribute()
    seen_at = UTCDateTimeAttribute(null=True)
    seen_by = UnicodeAttribute(null=True)
    unseen = UnicodeAttribute(null=True)  # "<tenant>#<kind>" while new and unopened (domain.reports.is_unseen)
    zone = UnicodeAttribute(null=True)  # a Vicinato zone id (a forwarded neighbourhood-watch report): the desk's filter
    by_reporter = ReporterIndex()
    by_token = PublicTokenIndex()
    by_unseen = UnseenIndex()


class ConversationActivityIndex(GlobalSecondaryIndex):
    """A comune's conversations by their last message: the Messaggi list, newest first."""

    class Meta:
        index_name = "by-activity"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    last_at = UnicodeAttribute(range_key=True)


class UnreadConversationsIndex(GlobalSecondaryIndex):
    """Sparse: only a conversation with a message no staff member opened carries unread_tenant (the menu's badge)."""

    class Meta:
        index_name = "unread"
        projection = AllProjection()

    unread_tenant = UnicodeAttribute(hash_key=True)
    last_at = UnicodeAttribute(range_key=True)


class ConversationModel(Model):
    """A two-way conversation of a citizen and staff on one channel (bounded: domain/conversations.py)."""

    class Meta(_Meta):
        table_name = table_name("conversations")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    conversation_id = UnicodeAttribute(range_key=True)  # "<channel id>.<citizen key>"
    channel_id = UnicodeAttribute()
    citizen_key = UnicodeAttribute()
    kind = UnicodeAttribute()  # the channel's kind
    phone = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    messages = JSONAttribute(default=list)
    status = UnicodeAttribute(default="open")
    unread_tenant = UnicodeAttribute(null=True)
    assignee = UnicodeAttribute(null=True)
    assignee_name = UnicodeAttribute(null=True)
    last_at = UnicodeAttribute()
    last_inbound_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)  # the tenant's retention.conversations after the last message
    version = VersionAttribute()
    by_activity = ConversationActivityIndex()
    unread = UnreadConversationsIndex()


ALL_MODELS = (TenantModel, ChannelModel, CitizenModel, ConsentModel, DeliveryModel, AuditModel, CounterModel,
              BroadcastModel, ConversationModel, ReportModel, StaffModel)


class AlertModel(Model):
    """Allerte (issue 19): an alert series as last told to a comune ("series#..."), a feed's state ("feed#..."), or a
    CAP identifier's series ("ref#..."). No personal data: hamlets, levels, broadcast ids."""

    class Meta(_Meta):
        table_name = table_name("alerts")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    alert_key = UnicodeAttribute(range_key=True)
    data = JSONAttribute(default=dict)  # what the kind holds (store/alerts.py)
    fingerprint = UnicodeAttribute(null=True)  # a series' last version told: the conditional write's guard
    active = BooleanAttribute(null=True)  # a series some hamlet is still on alert for
    pending = JSONAttribute(null=True)  # a series' broadcasts planned and not yet written (store/alerts.py)
    updated_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


ALL_MODELS = ALL_MODELS + (AlertModel,)


class TemplateModel(Model):
    """A WhatsApp message template of a business account, as Meta holds it (its review's status and category)."""

    class Meta(_Meta):
        table_name = table_name("templates")
        region = _region()

    waba_id = UnicodeAttribute(hash_key=True)
    template_id = UnicodeAttribute(range_key=True)  # Meta's id
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    language = UnicodeAttribute()
    category = UnicodeAttribute()  # UTILITY, MARKETING, AUTHENTICATION
    status = UnicodeAttribute()  # PENDING, APPROVED, REJECTED, PAUSED, DISABLED, ...
    components = JSONAttribute(default=list)  # Meta's HEADER, BODY, FOOTER, BUTTONS
    rejected_reason = UnicodeAttribute(null=True)
    previous_category = UnicodeAttribute(null=True)  # set when Meta re-categorised it
    updated_at = UTCDateTimeAttribute()


class AudienceCellModel(Model):
    """How many active subscribers of a channel chose exactly these hamlets and topics (domain.audiences): kept in
    the same transaction as every subscription change, recounted nightly."""

    class Meta(_Meta):
        table_name = table_name("audiences")
        region = _region()

    channel_id = UnicodeAttribute(hash_key=True)
    cell = UnicodeAttribute(range_key=True)  # "h=<hamlet ids>|t=<topic ids>", sorted; empty: every one
    count = NumberAttribute(default=0)


ALL_MODELS = ALL_MODELS + (AudienceCellModel,)


# ---- Vicinato (issue 16, docs/vicinato.md) --------------------------------------------------------------------------


class PhotoDueIndex(GlobalSecondaryIndex):
    """Sparse: only a person whose ID photo is still kept after the police's decision carries photo_bucket, so the
    daily sweep reads exactly those whose time has come."""

    class Meta:
        index_name = "photo-due"
        projection = AllProjection()

    photo_bucket = UnicodeAttribute(hash_key=True)
    photo_due_at = UnicodeAttribute(range_key=True)


class VicinatoMemberModel(Model):
    """A person of a Vicinato zone on the safety channel: member, coordinator or stand-in (domain.vicinato.Person)."""

    class Meta(_Meta):
        table_name = table_name("vicinato_members")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    member_key = UnicodeAttribute(range_key=True)  # "<channel id>#<citizen key>"
    channel_id = UnicodeAttribute()
    citizen_key = UnicodeAttribute()
    zone_id = UnicodeAttribute(null=True)
    role = UnicodeAttribute(default="member")
    status = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    handle_no = NumberAttribute(null=True)
    street = UnicodeAttribute(null=True)
    source = UnicodeAttribute(default="whatsapp")
    id_photo_key = UnicodeAttribute(null=True)
    photo_bucket = UnicodeAttribute(null=True)  # "due" while an ID photo waits for its deletion time
    photo_due_at = UnicodeAttribute(null=True)
    notice_version = UnicodeAttribute(null=True)
    prefettura_date = UnicodeAttribute(null=True)
    prefettura_ref = UnicodeAttribute(null=True)
    requested_at = UnicodeAttribute(null=True)
    decided_at = UnicodeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    refusal_note = UnicodeAttribute(null=True)
    left_at = UnicodeAttribute(null=True)
    step = UnicodeAttribute(null=True)
    draft = JSONAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    version = VersionAttribute()
    photo_due = PhotoDueIndex()


class DueCasesIndex(GlobalSecondaryIndex):
    """Sparse: only a case waiting for a coordinator or stand-in carries due_bucket: the escalation schedule reads
    exactly those whose time is up."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_bucket = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class VicinatoCaseModel(Model):
    """A member's report in the Vicinato relay (domain.vicinato.Case)."""

    class Meta(_Meta):
        table_name = table_name("vicinato_cases")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    case_id = UnicodeAttribute(range_key=True)
    body = JSONAttribute()  # the case as domain.vicinato.Case (bounded: MAX_FIELD, MAX_CASE_EVENTS, MAX_CASE_PHOTOS)
    status = UnicodeAttribute()
    zone_id = UnicodeAttribute()
    due_bucket = UnicodeAttribute(null=True)  # "due" while someone must act
    due_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    version = VersionAttribute()
    due = DueCasesIndex()


ALL_MODELS = ALL_MODELS + (VicinatoMemberModel, VicinatoCaseModel)


# ---- agenda (issue 17): appointments ----------------------------------------------------------------------


class _AgendaIndex(GlobalSecondaryIndex):
    class Meta:
        projection = AllProjection()


class BookingDayIndex(_AgendaIndex):
    """An office's bookings of a day (the staff day view): day_key is tenant#office#YYYY-MM-DD."""

    class Meta(_AgendaIndex.Meta):
        index_name = "by-day"

    day_key = UnicodeAttribute(hash_key=True)
    start = UnicodeAttribute(range_key=True)


class BookingPersonIndex(_AgendaIndex):
    """A citizen's bookings (APPUNTAMENTI, the privacy desk): person_key is tenant#<phone or user id>."""

    class Meta(_AgendaIndex.Meta):
        index_name = "by-person"

    person_key = UnicodeAttribute(hash_key=True)
    start = UnicodeAttribute(range_key=True)


class BookingDueIndex(_AgendaIndex):
    """Sparse: bookings with a reminder or a release to come, by UTC day and moment (the schedule's claim)."""

    class Meta(_AgendaIndex.Meta):
        index_name = "due"

    due_bucket = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class BookingModel(Model):
    """An appointment: who (name, contact), what (service, office, counter), when (local start), its state."""

    class Meta(_Meta):
        table_name = table_name("agenda_bookings")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    booking_id = UnicodeAttribute(range_key=True)  # the short code the citizen reads out
    office = UnicodeAttribute()
    counter = UnicodeAttribute()
    service = UnicodeAttribute()
    start = UnicodeAttribute()  # local time, YYYY-MM-DDTHH:MM
    end = UnicodeAttribute()
    cells = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute()  # booked, cancelled, released, attended, no_show
    person_key = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    channel_id = UnicodeAttribute(null=True)  # the WhatsApp number it was booked on (reminders go there)
    name = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    source = UnicodeAttribute()  # whatsapp, web, desk
    created_at = UTCDateTimeAttribute()
    changed_at = UTCDateTimeAttribute(null=True)
    confirmed = BooleanAttribute(default=False)
    must_confirm = BooleanAttribute(default=False)
    reminded_at = UTCDateTimeAttribute(null=True)
    day_key = UnicodeAttribute()
    due_bucket = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    due_action = UnicodeAttribute(null=True)  # remind, release
    history = JSONAttribute(default=list)  # [{at, action, by}]
    expires_at = TTLAttribute(null=True)  # retention_days after the appointment
    by_day = BookingDayIndex()
    by_person = BookingPersonIndex()
    due = BookingDueIndex()


class SlotCellModel(Model):
    """One grid cell of one counter: how many citizens it holds (taken), or blocked by staff."""

    class Meta(_Meta):
        table_name = table_name("agenda_slots")
        region = _region()

    slot_key = UnicodeAttribute(hash_key=True)  # tenant#office#counter
    cell = UnicodeAttribute(range_key=True)  # local time, YYYY-MM-DDTHH:MM
    taken = NumberAttribute(default=0)
    blocked = BooleanAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class AgendaPersonModel(Model):
    """Someone who books: the name they asked us to remember, and their no-shows."""

    class Meta(_Meta):
        table_name = table_name("agenda_people")
        region = _region()

    tenant_id = UnicodeAttribute(hash_key=True)
    person = UnicodeAttribute(range_key=True)  # phone (E.164) or the provider's user id
    name = UnicodeAttribute(null=True)  # kept only with consent (remember)
    remember = BooleanAttribute(default=False)
    consent_at = UTCDateTimeAttribute(null=True)
    no_shows = NumberAttribute(default=0)
    pending = JSONAttribute(null=True)  # a WhatsApp booking waiting for the name: {service, start, counter}
    updated_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


ALL_MODELS = ALL_MODELS + (BookingModel, SlotCellModel, AgendaPersonModel)
