"""The administration's staff users and roles (api/staff_admin.py): the comune's roster, one member."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field

from chalicelib.api.schemas.common import Answer
from chalicelib.domain.access import Role


class StaffMember(Answer):
    """A staff member of the comune: named by their display name, never by a login id."""

    id: str = Field(description="The identity provider's stable id (Cognito's sub): the path of PATCH and resets.")
    name: str = Field(description="The display name shown wherever staff are (timelines, audit, assignments).")
    email: str | None
    roles: list[Role]
    teams: list[str] = Field(description="The comune's report teams (tenant settings reports.teams).")
    enabled: bool = Field(description="False: disabled, every request refused (401 account_disabled).")
    managed: bool = Field(description="Invited or changed by an administrator: the roster decides roles and state.")
    last_sign_in: datetime | None
    invited_at: datetime | None


class StaffList(Answer):
    """The comune's staff, by name."""

    items: list[StaffMember]
