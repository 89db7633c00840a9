"""The administration's staff users and roles under /api/v1/staff: list, invite, change roles, teams and name,
disable and enable, reset a password or MFA (services/admin/staff.py). Administrators only (Capability.SETUP)."""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, parse_body
from chalicelib.api.openapi import documented
from chalicelib.domain.access import Capability, Role, Staff

people = lazy("chalicelib.services.admin.staff")

bp = Blueprint(__name__)


def _answer(call, *args):
    try:
        return call(*args)
    except people.StaffProblem as problem:
        details = [{"field": problem.field, "message": str(problem)}] if problem.field else None
        raise ApiError(problem.status, problem.code, str(problem), details) from None


@bp.route("/api/v1/staff", methods=["GET"])
@documented({200: "StaffList"})
@json_errors
@staff_only(bp, Capability.SETUP)
def list_staff(staff: Staff):
    """The comune's staff: name, email, roles, teams, enabled, last sign-in (audited)."""
    return people.listing(staff)


@bp.route("/api/v1/staff", methods=["POST"])
@documented({201: "StaffMember"}, body="chalicelib.services.admin.staff:Invitation", errors=(409, 503),
            example={"name": "Mario Rossi", "email": "mario.rossi@comune.example", "roles": [Role.TECHNICAL.value],
                     "teams": ["cantonieri"]})
@json_errors
@staff_only(bp, Capability.SETUP)
def invite_staff(staff: Staff):
    """Invite a new staff member: a user in the identity provider with their roles, and an Italian email with a
    temporary password (the first sign-in asks for a new one). Audited."""
    data = parse_body(bp.current_request, people.Invitation)
    return Response(body=_answer(people.invite, staff, data), status_code=201)


@bp.route("/api/v1/staff/{member_id}", methods=["PATCH"])
@documented({200: "StaffMember"}, body="chalicelib.services.admin.staff:StaffChange", errors=(404, 409, 503),
            example={"roles": [Role.TECHNICAL.value, Role.COMMUNICATIONS.value], "enabled": True})
@json_errors
@staff_only(bp, Capability.SETUP)
def change_staff(staff: Staff, member_id: str):
    """Change a member's roles, teams, name or whether they are enabled; a disabled member's next request is
    refused. The comune's last enabled administrator keeps that role (409 last_admin). Audited, before and after."""
    data = parse_body(bp.current_request, people.StaffChange)
    return _answer(people.change, staff, unquote(member_id), data)


@bp.route("/api/v1/staff/{member_id}/reset-password", methods=["POST"])
@documented({200: "StaffMember"}, errors=(404, 409, 503))
@json_errors
@staff_only(bp, Capability.SETUP)
def reset_staff_password(staff: Staff, member_id: str):
    """Email the member a new temporary password; their next sign-in asks for a new one. Audited."""
    return _answer(people.reset_password, staff, unquote(member_id))


@bp.route("/api/v1/staff/{member_id}/reset-mfa", methods=["POST"])
@documented({200: "StaffMember"}, errors=(404, 409, 503))
@json_errors
@staff_only(bp, Capability.SETUP)
def reset_staff_mfa(staff: Staff, member_id: str):
    """Turn the member's MFA off (a lost phone): they set it up again at their next sign-in. Audited."""
    return _answer(people.reset_mfa, staff, unquote(member_id))
