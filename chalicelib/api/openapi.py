"""GET /api/v1/openapi.json: the API's OpenAPI 3.1 document, for anyone (it holds no data)."""
from __future__ import annotations

import json
from functools import lru_cache

from chalice import Blueprint, Response

from chalicelib.api import openapi_doc
from chalicelib.api.http import chalice_errors_as_json

bp = Blueprint(__name__)
# Chalice applies a blueprint's middleware to the whole app: with it, the 405 and 415 that Chalice itself gives
# under /api/v1 and /public/v1 have the documented error shape too.
bp.register_middleware(chalice_errors_as_json, "http")


@lru_cache(maxsize=1)
def _document_json() -> str:
    return json.dumps(openapi_doc.document(), ensure_ascii=False)


@bp.route("/api/v1/openapi.json", methods=["GET"])
def openapi_document():
    return Response(body=_document_json(), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "public, max-age=300"})
