"""The one definition of every table, queue and bucket: local bootstrap and infra/ both read it."""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.settings import resource_name


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None = None
    projection: str = "ALL"  # ALL or KEYS_ONLY


@dataclass(frozen=True)
class TableSpec:
    logical: str
    hash_key: str
    range_key: str | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None

    @property
    def name(self) -> str:
        return resource_name(self.logical)

    def key_attributes(self) -> list[str]:
        names = [self.hash_key] + ([self.range_key] if self.range_key else [])
        for index in self.indexes:
            names += [index.hash_key] + ([index.range_key] if index.range_key else [])
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class QueueSpec:
    logical: str
    visibility_timeout: int  # seconds; at least 6x the consumer's Lambda timeout in AWS
    max_receive_count: int  # receives before the redrive policy moves a message to the DLQ
    max_message_size: int = 1_048_576
    retention_seconds: int = 4 * 24 * 3600
    dlq_retention_seconds: int = 14 * 24 * 3600

    @property
    def name(self) -> str:
        return resource_name(self.logical)

    @property
    def dlq_name(self) -> str:
        return resource_name(f"{self.logical}-dlq")


@dataclass(frozen=True)
class BucketSpec:
    logical: str
    lifecycle_days: dict[str, int] = field(default_factory=dict)  # prefix -> expiry days

    @property
    def name(self) -> str:
        return resource_name(self.logical)


TABLES: dict[str, TableSpec] = {
    spec.logical: spec
    for spec in (
        TableSpec("tenants", "tenant_id"),
        TableSpec("channels", "phone_number_id", indexes=(Index("by-tenant", "tenant_id"),)),
        TableSpec(
            "citizens", "channel_id", "citizen_key",
            indexes=(Index("active", "active_channel", "citizen_key"),
                     Index("recent", "inbound_day", "last_inbound_at")),  # issue 18: who wrote in the last 24 h
            ttl_attribute="expires_at",
        ),
        TableSpec("consents", "subject", "recorded_at"),
        TableSpec("deliveries", "job_id", "recipient", ttl_attribute="expires_at"),
        TableSpec("broadcasts", "tenant_id", "broadcast_id", indexes=(Index("due", "due_bucket", "due_at"),)),
        TableSpec("audit", "tenant_id", "at", ttl_attribute="expires_at"),
        TableSpec("counters", "counter_key", ttl_attribute="expires_at"),
        TableSpec("idempotency", "id", ttl_attribute="expiration"),
        TableSpec("staff", "tenant_id", "subject", ttl_attribute="expires_at"),  # who may be assigned a report
        TableSpec("privacy_requests", "tenant_id", "at", ttl_attribute="expires_at"),  # the privacy desk's log
        TableSpec("templates", "waba_id", "template_id"),  # a business account's WhatsApp templates, as Meta holds them
        TableSpec(
            "reports", "tenant_id", "report_id",
            indexes=(Index("by-reporter", "reporter", "report_id"), Index("by-token", "public_token"),
                     Index("unseen", "unseen", "report_id")),
            ttl_attribute="expires_at",
        ),
        TableSpec(
            "conversations", "tenant_id", "conversation_id",
            indexes=(Index("by-activity", "tenant_id", "last_at"), Index("unread", "unread_tenant", "last_at")),
            ttl_attribute="expires_at",
        ),
        TableSpec("audiences", "channel_id", "cell"),  # issue 18: active subscribers per (hamlets, topics) choice
        # Allerte (issue 19): per comune, each alert series as last told, its feeds' state, CAP identifier pointers
        TableSpec("alerts", "tenant_id", "alert_key", ttl_attribute="expires_at"),
        # Vicinato (issue 16, docs/vicinato.md): the people of the zones, and the relay's cases
        TableSpec("vicinato_members", "tenant_id", "member_key",
                  indexes=(Index("photo-due", "photo_bucket", "photo_due_at"),), ttl_attribute="expires_at"),
        TableSpec("vicinato_cases", "tenant_id", "case_id", indexes=(Index("due", "due_bucket", "due_at"),),
                  ttl_attribute="expires_at"),
        # agenda (issue 17): bookings; the (counter, time) cells they take, one conditional write each; the people
        # who book (name remembered with consent, no-shows)
        TableSpec(
            "agenda_bookings", "tenant_id", "booking_id",
            indexes=(Index("by-day", "day_key", "start"), Index("by-person", "person_key", "start"),
                     Index("due", "due_bucket", "due_at")),
            ttl_attribute="expires_at",
        ),
        TableSpec("agenda_slots", "slot_key", "cell", ttl_attribute="expires_at"),
        TableSpec("agenda_people", "tenant_id", "person", ttl_attribute="expires_at"),
    )
}

QUEUES: dict[str, QueueSpec] = {
    spec.logical: spec
    for spec in (
        QueueSpec("inbound", visibility_timeout=180, max_receive_count=5),
        QueueSpec("statuses", visibility_timeout=360, max_receive_count=5),  # webhooks of statuses alone
        QueueSpec("outbound", visibility_timeout=180, max_receive_count=8),
        QueueSpec("fanout", visibility_timeout=900, max_receive_count=5),
    )
}

BUCKETS: dict[str, BucketSpec] = {
    # a backstop only: photos go with their report (services.media_retention's daily sweep); 11 years is longer
    # than the longest retention a comune may set for closed reports (10 years), so none goes before its report
    "media": BucketSpec("media", lifecycle_days={"tenants/": 11 * 365}),
}


def table_name(logical: str) -> str:
    return TABLES[logical].name


def queue_name(logical: str) -> str:
    return QUEUES[logical].name


def bucket_name(logical: str) -> str:
    return BUCKETS[logical].name
