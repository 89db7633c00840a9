"""The subscription rules: double opt-in, opt-out at once, preferences, retention of records."""
from datetime import UTC, datetime

from chalicelib.domain import subscriptions as rules
from chalicelib.domain.phones import citizen_key
from chalicelib.domain.subscriptions import Citizen

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def citizen(**kw):
    return Citizen(channel_id="c1", tenant_id="demo", phone="+393351397378", **kw)


def test_request_is_not_active_until_confirmed():
    pending = rules.request(citizen(), "keyword", NOW)
    assert pending.status == "pending" and not pending.active
    assert pending.expires_at > NOW
    active = rules.confirm(pending, NOW)
    assert active.active and active.subscribed_at == NOW and active.expires_at is None


def test_stop_ends_sending_and_keeps_the_time():
    stopped = rules.stop(rules.confirm(rules.request(citizen(), "keyword", NOW), NOW), NOW)
    assert stopped.status == "stopped" and not stopped.active and stopped.stopped_at == NOW


def test_resubscribe_after_stop():
    stopped = rules.stop(rules.confirm(citizen(), NOW), NOW)
    again = rules.confirm(rules.request(stopped, "keyword", NOW), NOW)
    assert again.active and again.stopped_at is None


def test_preferences_one_hamlet_or_all():
    chosen = rules.choose_hamlet(citizen(status="active"), "pieve")
    assert chosen.hamlets == ("pieve",) and chosen.step == "topics"
    assert rules.choose_hamlet(chosen, None).hamlets == ()
    assert rules.choose_topic(chosen, "allerte").topics == ("allerte",)


def test_retention_keeps_active_and_forgets_the_rest():
    assert rules.with_retention(citizen(status="active"), NOW).expires_at is None
    assert rules.with_retention(citizen(status="stopped"), NOW).expires_at == NOW + rules.INACTIVE_LIFETIME
    pending = rules.request(citizen(), "keyword", NOW)
    assert rules.with_retention(pending, NOW).expires_at == pending.expires_at


def test_citizen_key_prefers_phone_then_business_scoped_id():
    assert citizen_key("+393351397378", "IT.1") == "+393351397378"
    assert citizen_key(None, "IT.1") == "bsuid:IT.1"
