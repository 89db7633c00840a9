"""What every surface of the API shares: the answer base class, the error body, paging, path parameters, maps."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.http import MAX_PAGE
from chalicelib.api.openapi import DEMO_TENANT
from chalicelib.domain.broadcasts import ACTION_RESULT
from chalicelib.domain.settings import TEMPLATE_PURPOSES, TENANT_SECTIONS

Count = Annotated[int, Field(ge=0)]


class Answer(BaseModel):
    """Base of the answer models: closed, so a key the model does not name fails the schemathesis run."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Base of the query-parameter models: each field is one parameter of the operation."""


def page_size(default: int) -> Any:
    return Field(default, ge=1, le=MAX_PAGE, description=f"Items per page, 1 to {MAX_PAGE}.")


def cursor() -> Any:
    return Field(None, description="The `next` of the previous page, as given.")


def next_page() -> Any:
    return Field(description="Pass as cursor for the next page; null on the last one.")


class ErrorDetail(Answer):
    field: str
    message: str
    text: str | None = Field(None, description="In Italian, for staff: what the console shows by the field.")


class ErrorBody(Answer):
    code: str = Field(description="Stable, machine-readable: not_found, invalid_request, ...")
    message: str = Field(description="For people.")
    details: list[ErrorDetail] | None = Field(None, description="The fields at fault, when it can name them.")


class Error(Answer):
    """Every refusal of /api/v1 and /public/v1 (api/http.py ApiError)."""

    error: ErrorBody


class Named(Answer):
    id: str
    name: str


class PathParameters(BaseModel):
    """The parameters routes name in their paths: one meaning per name across the API."""

    phone: str = Field(min_length=1, examples=["+393337654321"], description=(
        "The citizen: an E.164 number in any usual writing, URL-encoded (%2B39...), or bsuid:<id>."))
    broadcast_id: str = Field(min_length=1, description="The broadcast's id.")
    action: Literal[tuple(ACTION_RESULT)] = Field(description="The step.")
    report_id: str = Field(min_length=1, examples=["2026-0000001"], description="The report's id as listed (2026-0000042).")
    photo_id: str = Field(min_length=1, description="The photo's id.")
    tenant: str = Field(min_length=1, examples=[DEMO_TENANT], description="The comune's id.")
    token: str = Field(min_length=1, description="The report's token, from its status link.")
    conversation_id: str = Field(min_length=1, examples=["100000000000001.+393337654321"], description=(
        "The conversation: <channel id>.<citizen key>, URL-encoded, as listed."))
    channel_id: str = Field(min_length=1, examples=["100000000000001"], description="The channel's phone number id.")
    purpose: Literal[tuple(TEMPLATE_PURPOSES)] = Field(description="What the app sends a template for (notice: "
                                                       "broadcasts outside the 24-hour window...).")
    member_id: str = Field(min_length=1, max_length=128, description="The staff member's id as listed (GET /api/v1/staff).")
    section: Literal[TENANT_SECTIONS] = Field(description="A section of the comune's settings.")
    person_id: str = Field(min_length=1, examples=["100000000000003.+393330000310"], description=(  # Vicinato
        "Someone of Vicinato: <channel id>.<citizen key>, URL-encoded, as listed."))
    # agenda (issue 17)
    service: str = Field(min_length=1, max_length=64, examples=["smarriti"], description="A bookable service's id.")
    token: str = Field(min_length=1, max_length=300, description="The signed token of a booking's link, as given.")
    code: str = Field(min_length=6, max_length=6, examples=["K7MQ3X"], description="A booking's code.")


# The hamlets as a GeoJSON FeatureCollection (domain/geo.hamlet_features): what the console's and the portal's
# maps draw.

class Outline(BaseModel):
    """A hamlet's outline; any other GeoJSON member is allowed."""

    model_config = ConfigDict(extra="allow")
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class HamletPoint(Answer):
    id: str
    name: str
    latitude: float
    longitude: float


class HamletFeature(Answer):
    type: Literal["Feature"]
    id: str
    properties: HamletPoint
    geometry: Outline | None = Field(description="Null when the hamlet has no usable Polygon or MultiPolygon.")


class HamletMap(Answer):
    """The comune's hamlets, each with its point and its outline."""

    type: Literal["FeatureCollection"]
    features: list[HamletFeature]


class OpenApiDocument(BaseModel):
    """The OpenAPI 3.1 document."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    paths: dict[str, Any]
