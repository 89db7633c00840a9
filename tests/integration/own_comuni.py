"""Comuni of their own for tests in other modules than test_reports and test_safety: their Town and SafetyLine
number themselves from 1 per module copy, so a test module importing them would meet their ids; these never do."""
from __future__ import annotations

import uuid

from chalicelib.domain.tenancy import Channel
from chalicelib.store import directory
from local.seed import REPORTS, _square
from tests.integration.test_reports import CENTRE, Town
from tests.integration.test_safety import SafetyLine, hours_around_now


def _unique() -> int:
    return uuid.uuid4().int % 10**9


class OwnTown(Town):
    """test_reports' Town (a reports channel, hamlets colle and piano, report numbers from 1) with unique ids."""

    def __init__(self, stack, **channel_settings):
        n = _unique()
        self.stack, self.tenant, self.channel = stack, f"proprio{n}", f"34{n:013d}"  # 32... is test_console_api's
        directory.save_tenant(self.tenant, f"Comune di Proprio {n}", {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)},
                        {"id": "piano", "name": "Piano", "latitude": 43.7190, "longitude": 10.9460,
                         "geometry": _square(43.7190, 10.9460)}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1", "reports": REPORTS})
        directory.save_channel(Channel(self.channel, self.tenant, "reports", "Segnalazioni", "+39 0571 930000", {
            "rate_per_second": 200, "templates": {"report_update": {"name": "aggiornamento_segnalazione"}},
            **channel_settings}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "reports", "tenant": self.tenant})
        self.tokens = {role: stack.issuer.token(self.tenant, [role]) for role in ("technical", "police", "admin")}


class OwnLine(SafetyLine):
    """test_safety's SafetyLine (a safety channel watched now, hamlet centro) with unique ids."""

    def __init__(self, stack, **channel_settings):
        n = _unique()
        self.stack, self.tenant, self.channel = stack, f"vigile{n}", f"42{n:013d}"
        directory.save_tenant(self.tenant, f"Comune di Vigile {n}", {
            "hamlets": [{"id": "centro", "name": "Centro", "latitude": 43.7, "longitude": 10.9}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1", "reports": REPORTS})
        directory.save_channel(Channel(self.channel, self.tenant, "safety", "Sicurezza", "+39 0571 940000", {
            "rate_per_second": 200, "registered_only": True, "watched_hours": hours_around_now(True),
            **channel_settings}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "safety", "tenant": self.tenant})
        self.tokens = {role: stack.issuer.token(self.tenant, [role]) for role in ("police", "technical", "admin")}
