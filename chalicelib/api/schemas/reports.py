"""Reports' answers and query parameters: a report in a list and in full, a page of them, the KPIs (api/reports.py)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, create_model

from chalicelib.api.schemas.common import Answer, Count, Query, cursor, next_page, page_size
from chalicelib.domain.deadlines import DUE, SORTS
from chalicelib.domain.reports import KINDS, STATUSES

ReportKind = Literal[KINDS]
ReportStatus = Literal[STATUSES]
YEARS = "in the years 1971 to 2999; Europe/Rome when it has no offset"
_ONE_STATUS = "|".join(STATUSES)


class Location(Answer):
    latitude: float
    longitude: float
    address: str | None


class Assignee(Answer):
    id: str = Field(description="The staff member's id (the identity provider's subject).")
    name: str | None


class VicinatoOrigin(Answer):
    zone: str | None
    zone_name: str | None
    handle: str | None = Field(description="The member's zone handle («Vicino 12 · via Roma»).")
    note: str | None = Field(description="The coordinator's note.")
    urgent: bool


class ReportFields(Answer):
    """What a report shows in a list and in full."""

    id: str
    number: str = Field(examples=["2026/42"], description="Numbered per year.")
    kind: ReportKind = Field(description="report, or safety for the police's tips.")
    status: ReportStatus
    category: str | None
    hamlet: str | None
    source: str
    location: Location | None
    address: str | None
    team: str | None
    assignee: Assignee | None = Field(description="The staff member in charge, besides the team.")
    external_body: str | None
    text: str
    followers: Count = Field(description="Citizens who follow it besides the reporter.")
    duplicate_of: str | None
    created_at: datetime
    updated_at: datetime
    reopened_by_citizen: bool = Field(False, description="Its last step is its citizen's «Non risolto» after it "
                                      "was resolved: the office must look at it again.")
    vicinato: VicinatoOrigin | None = Field(None, description="A report a Vicinato coordinator forwarded (source "
                                            "vicinato): its zone, the member's handle, the coordinator's note, urgent.")


class StepDeadline(Answer):
    """By when a report should reach a step (its category's target in working days, on the comune's calendar)."""

    step: Literal["triaged", "in_progress", "resolved"] = Field(description="triaged: taken in charge (any step out "
                                                                "of new); in_progress: work started; resolved: closed.")
    due_on: date = Field(description="The last working day.")
    due_at: datetime = Field(description="When it is missed: the close of due_on (Europe/Rome).")
    reached_at: datetime | None
    late: bool = Field(description="Reached after due_at, or not reached and due_at is past.")


class Deadline(StepDeadline):
    """The next step to reach, with the report's state: overdue (a pending step is past due), due_soon (within the
    comune's due_soon_days working days), on_time."""

    state: Literal["overdue", "due_soon", "on_time"]


class Timing(Answer):
    age_days: Count = Field(description="Calendar days since it came (Europe/Rome).")
    deadline: Deadline | None = Field(description="The next step's deadline; null once every target is met, and for "
                                      "tips, duplicates and categories without targets.")
    deadlines: list[StepDeadline] = Field(description="Every step with a target, in lifecycle order.")


class ReportSummary(ReportFields, Timing):
    """A report as lists show it: its text cut at 200 characters."""

    photos: Count = Field(description="Photos stored.")


class ReportPage(Answer):
    """A page of reports, newest first."""

    items: list[ReportSummary]
    next: str | None = next_page()


class RedactionBox(Answer):
    """A rectangle in fractions (0..1) of the picture's width and height, from its top left corner."""

    x: float
    y: float
    width: float
    height: float


class PublicText(Answer):
    """What the public reads of a report (portal, Open311, status page) instead of the citizen's words."""

    title: str
    description: str
    approved: bool = Field(description="A staff member's approved text; false: the default from category and hamlet.")
    approved_by: str | None
    approved_at: datetime | None


class Photo(Answer):
    id: str
    status: Literal["stored", "pending", "refused", "failed"]
    reason: str | None
    content_type: str | None
    size: int | None
    published: bool = Field(description="Shown (its copy without metadata) on the citizen portal.")
    url: str | None = Field(description="A presigned link, valid 5 minutes.")
    public_url: str | None = Field(description="A presigned link to the copy without metadata (the one boxes are "
                                   "drawn on), valid 5 minutes.")
    shown_url: str | None = Field(description="A presigned link to what the portal shows when published: the copy "
                                  "with staff's boxes painted over, else the copy without metadata.")
    boxes: list[RedactionBox] = Field(description="The boxes painted over the copy the portal shows.")


class Attachment(Answer):
    """A voice note, video or PDF a citizen sent: staff only, never published."""

    id: str
    kind: Literal["audio", "video", "document"]
    status: Literal["stored", "pending", "refused", "failed", "erased"]
    reason: str | None
    content_type: str | None
    size: int | None
    url: str | None = Field(description="A presigned link, valid 5 minutes (a document's downloads as a file).")


class Reporter(Answer):
    channel: str | None
    citizen: str | None


class Event(Answer):
    at: datetime
    actor: str
    actor_name: str | None = Field(None, description="A staff actor's display name (the comune's staff list).")
    action: str = Field(examples=["status", "note", "merged"])
    public: bool = Field(description="Shown to the citizen.")
    note: str | None
    status: ReportStatus | None
    data: dict[str, Any] | None = None


class Step(Answer):
    to: ReportStatus
    public: bool = Field(description="Whether the step tells the citizen when the transition does not say.")


class Resident(Answer):
    """Who sent a tip, as the police registered them on the safety channel (tips only; audited)."""

    name: str
    address: str | None
    hamlet: str | None
    phone: str | None


class Feedback(Answer):
    """Citizens asked «Risolto» / «Non risolto» when the report was resolved, and their last answers."""

    asked: Count
    satisfied: Count
    not_satisfied: Count


class Report(ReportFields, Timing):
    """A report in full, with its photos and history."""

    contact: dict[str, str] = Field(description="Desk reports: name, phone, email.")
    outcome: str | None
    external: dict[str, Any] | None = Field(description="Where it was forwarded, and when.")
    photos: list[Photo]
    attachments: list[Attachment] = Field(description="Voice notes, videos and documents, in the order sent.")
    reporter: Reporter | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    events: list[Event]
    feedback: Feedback = Field(description="What its citizens answered when it was resolved.")
    steps: list[Step] = Field(description="The lifecycle steps this report can take now, each with whether it "
                              "tells the citizen by default (a tip is never assigned nor forwarded).")
    public: PublicText | None = Field(None, description="Reports only: the title and description the public reads. "
                                      "Absent on tips.")
    resident: Resident | None = Field(None, description="Tips only: the registered resident who sent it, or null "
                                      "when no longer registered. Absent on reports.")


class Period(Answer):
    from_: datetime = Field(alias="from")
    to: datetime


StatusCounts = create_model("StatusCounts", __base__=Answer, __doc__="Reports in each status.",
                            **{status: (Count, ...) for status in STATUSES})


class OnTimeShare(Answer):
    share: float | None = Field(ge=0, le=1, description="on_time / considered; null when none is considered.")
    on_time: Count = Field(description="Reports that missed no deadline so far.")
    considered: Count = Field(description="Reports with deadlines (no tips, no duplicates).")


class OnTime(OnTimeShare):
    """Reports that met their deadlines (domain/deadlines.py): overall, per category and per team."""

    by_category: dict[str, OnTimeShare]
    by_team: dict[str, OnTimeShare] = Field(description="By the team assigned; unknown: none.")


class Kpis(Answer):
    """KPIs of the reports created in the period (domain/kpis.py has the definitions)."""

    kinds: list[ReportKind]
    period: Period
    total: Count
    by_status: StatusCounts
    by_kind: dict[str, Count]
    by_category: dict[str, Count]
    by_hamlet: dict[str, Count]
    by_week: dict[str, Count] = Field(description="By ISO week of creation, e.g. 2026-W47.")
    median_hours_to_first_response: float | None
    median_hours_to_resolution: float | None
    resolved_share: float | None = Field(ge=0, le=1, description="Resolved among the reports that are no duplicate.")
    resolved: Count
    considered: Count
    on_time: OnTime
    satisfied_share: float | None = Field(ge=0, le=1, description="Soddisfatti: citizens who answered «Risolto» "
                                          "among those asked when their report was resolved (None: nobody asked).")
    satisfied: Count = Field(description="Citizens whose last answer is «Risolto».")
    not_satisfied: Count = Field(description="Citizens whose last answer is «Non risolto».")
    asked: Count = Field(description="Citizens asked whether the problem is solved.")


def moment(name: str, meaning: str) -> Any:
    return Field(None, alias=name, description=f"{meaning}: an ISO date or date-time {YEARS}.",
                 examples=["2026-11-01", "2026-11-01T09:00:00+01:00"])


def kind() -> Any:
    return Field(None, description="report, or safety (police only); when absent, every kind the roles reach.")


class KpiQuery(Query):
    kind: ReportKind | None = kind()
    from_: date | datetime | None = moment("from", "Created at or after")
    to: date | datetime | None = moment("to", "Created before")


class ReportQuery(KpiQuery):
    status: str | None = Field(None, pattern=f"^({_ONE_STATUS})(,({_ONE_STATUS}))*$", examples=["new,triaged"],
                               description="One status, or several separated by commas.")
    category: str | None = Field(None, description="A category id.")
    hamlet: str | None = Field(None, description="A hamlet id.")
    team: str | None = Field(None, description="A team id.")
    q: str | None = Field(None, description="Words in the text or address.")
    assignee: str | None = Field(None, description="A staff member's id, or me: the reports they are in charge of.",
                                 examples=["me"])
    zone: str | None = Field(None, description="A Vicinato zone id: the safety reports its coordinators forwarded.")
    due: Literal[DUE] | None = Field(None, description="Only the reports past a deadline "
                                                       "(overdue), or whose next deadline ends soon (due_soon).")
    sort: str | None = Field(None, pattern=f"^-?({'|'.join(SORTS)})$", examples=["due", "-created_at"],
                             description="A column to sort by, '-' before it for the reverse order (missing values "
                             "last); absent: newest first.")
    limit: int = page_size(20)
    cursor: str | None = cursor()


class AssigneeQuery(Query):
    kind: ReportKind | None = kind()


class Person(Answer):
    id: str = Field(description="Pass as assignee.")
    name: str
    kinds: list[ReportKind] = Field(description="The kinds of report they may be put in charge of.")


class AssigneeList(Answer):
    """Staff who may be put in charge, by name."""

    items: list[Person]


class BulkOutcome(Answer):
    id: str
    result: Literal["done", "unchanged", "refused", "not_found"]
    number: str | None
    status: ReportStatus | None = Field(description="The report's status after the action.")
    reason: dict[str, str] | None = Field(None, description="refused only: code, message and the field at fault.")


class BulkResult(Answer):
    """What happened to each report, in the order given."""

    action: str
    results: list[BulkOutcome]
    counts: dict[str, Count]
