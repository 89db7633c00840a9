"""Photos and other files attached to reports, in the media bucket, with the client built once per Lambda instance.

Key layout, one folder per photo or file:
    tenants/{tenant_id}/reports/{report_id}/{photo_id}/original.{ext}   as the citizen sent it: staff only
    tenants/{tenant_id}/reports/{report_id}/{photo_id}/public.{ext}     metadata stripped: the copy shown outside staff
    tenants/{tenant_id}/reports/{report_id}/{photo_id}/redacted.{ext}   the public copy with staff's boxes painted over
A voice note, video or document has only its original: it never leaves the office.
"""
from __future__ import annotations

import re
from datetime import datetime
from functools import cache

import boto3
from botocore.config import Config

from chalicelib.domain.attachments import CheckedFile
from chalicelib.domain.images import CheckedImage
from chalicelib.resources import bucket_name

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # one path segment: no '/', never '.' or '..'
_LIST_PAGE = 1000  # S3 ListObjectsV2's largest page
_DELETE_BATCH = 1000  # S3 DeleteObjects' limit


@cache
def _client():
    # virtual addressing: presigned URLs name the bucket's regional endpoint (bucket.s3.<region>.amazonaws.com)
    # rather than the global one, which answers with redirects that break signed GETs outside us-east-1;
    # against a local endpoint given by IP (moto server) botocore still uses path style
    return boto3.client("s3", config=Config(s3={"addressing_style": "virtual"}))


def _bucket() -> str:
    return bucket_name("media")


def _segment(value: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(f"not a valid id for a media key: {value!r}")
    return value


def report_prefix(tenant_id: str, report_id: str) -> str:
    """The folder holding every photo of one report (ends with '/', so report 1 never matches report 10)."""
    return f"tenants/{_segment(tenant_id)}/reports/{_segment(report_id)}/"


def photo_keys(tenant_id: str, report_id: str, photo_id: str, extension: str) -> tuple[str, str]:
    """The keys of a photo's original (staff only) and public (metadata stripped) copies."""
    folder = report_prefix(tenant_id, report_id) + _segment(photo_id)
    return f"{folder}/original.{extension}", f"{folder}/public.{extension}"


def put_photo(tenant_id: str, report_id: str, photo_id: str, original: bytes, public: bytes,
              checked: CheckedImage) -> dict:
    """Store both copies of a checked photo (encrypted at rest by the bucket); what the report keeps about it.

    size, width and height come from checked: the original's bytes, and the displayed (upright) dimensions.
    """
    original_key, public_key = photo_keys(tenant_id, report_id, photo_id, checked.extension)
    for key, body in ((original_key, original), (public_key, public)):
        # encrypted by the bucket's default (SSE-KMS with the stack's key in AWS, infra/): no per-object override
        _client().put_object(Bucket=_bucket(), Key=key, Body=body, ContentType=checked.content_type)
    return {"id": photo_id, "original_key": original_key, "public_key": public_key,
            "content_type": checked.content_type, "size": checked.size, "width": checked.width,
            "height": checked.height}


def put_file(tenant_id: str, report_id: str, file_id: str, data: bytes, checked: CheckedFile) -> str:
    """Store a checked voice note, video or document (encrypted at rest by the bucket); its key. No public copy."""
    key, _ = photo_keys(tenant_id, report_id, file_id, checked.extension)
    _client().put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=checked.content_type)
    return key


def read(key: str, max_bytes: int) -> bytes:
    """One stored object's bytes; ValueError when it is larger than max_bytes (nothing past that is read)."""
    answer = _client().get_object(Bucket=_bucket(), Key=key)
    if answer["ContentLength"] > max_bytes:
        answer["Body"].close()
        raise ValueError(f"{key} holds {answer['ContentLength']} bytes, more than {max_bytes}")
    return answer["Body"].read()


def put_redacted(public_key: str, data: bytes, content_type: str) -> str:
    """Store the redacted copy of a photo next to its public copy (replacing an earlier one); its key."""
    folder, _, name = public_key.rpartition("/")
    if not name.startswith("public."):
        raise ValueError(f"not a public copy's key: {public_key!r}")
    key = f"{folder}/redacted.{name.removeprefix('public.')}"
    _client().put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type)
    return key


def presigned_url(key: str, expires_seconds: int = 300, download_as: str | None = None) -> str:
    """A short-lived URL to GET one object, for whoever may see it (the caller decides). download_as: a file name
    the browser saves it under instead of opening it (a citizen's document is never rendered on our origin)."""
    params = {"Bucket": _bucket(), "Key": key}
    if download_as:
        params["ResponseContentDisposition"] = f'attachment; filename="{download_as}"'
    return _client().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_seconds)


def delete_report_media(tenant_id: str, report_id: str) -> int:
    """Delete every object under a report's folder (erasure); how many were deleted.

    Deletes current objects only: the bucket is not versioned; if it ever were, old versions would remain.
    """
    keys = [item["Key"] for item in _objects(report_prefix(tenant_id, report_id))]  # all listed before any is deleted
    delete_keys(keys)
    return len(keys)


def _objects(prefix: str):
    """Every object under prefix, as list_objects_v2 describes it (Key, LastModified, ...), page by page."""
    pages = _client().get_paginator("list_objects_v2").paginate(Bucket=_bucket(), Prefix=prefix,
                                                                PaginationConfig={"PageSize": _LIST_PAGE})
    for page in pages:
        yield from page.get("Contents", [])


def _delete_batch(keys: list[str]) -> None:
    result = _client().delete_objects(Bucket=_bucket(), Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True})
    if result.get("Errors"):
        first = result["Errors"][0]
        raise RuntimeError(f"S3 refused to delete {len(result['Errors'])} of {len(keys)} objects "
                           f"({first.get('Code')}: {first.get('Key')})")


def report_folders(older_than: datetime) -> dict[tuple[str, str], list[str]]:
    """Every object last written before older_than, grouped by its (tenant, report) folder."""
    folders: dict[tuple[str, str], list[str]] = {}
    for item in _objects("tenants/"):
        parts = item["Key"].split("/")
        if len(parts) >= 5 and parts[2] == "reports" and item["LastModified"] < older_than:
            folders.setdefault((parts[1], parts[3]), []).append(item["Key"])
    return folders


def delete_keys(keys: list[str]) -> None:
    for start in range(0, len(keys), _DELETE_BATCH):
        _delete_batch(keys[start:start + _DELETE_BATCH])


# ---- Vicinato (issue 16): ID photos and the photos a coordinator asked for, in a folder of their own -------------
#     tenants/{tenant_id}/vicinato/id/{person id}/{photo_id}.{ext}        a member's ID document: police only
#     tenants/{tenant_id}/vicinato/cases/{case_id}/{photo_id}.{ext}       a photo of a member's report
# Not under reports/: the reports' sweep never judges them; services.vicinato.retention deletes them.

def vicinato_key(tenant_id: str, folder: str, owner: str, photo_id: str, extension: str) -> str:
    if folder not in ("id", "cases"):
        raise ValueError(f"not a Vicinato folder: {folder!r}")
    return f"tenants/{_segment(tenant_id)}/vicinato/{folder}/{_segment(owner)}/{_segment(photo_id)}.{_segment(extension)}"


def put_vicinato(key: str, data: bytes, content_type: str) -> None:
    """Store one Vicinato photo (encrypted at rest by the bucket's default key, SSE-KMS in AWS)."""
    _client().put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type)


def delete_vicinato_case(tenant_id: str, case_id: str) -> int:
    keys = [item["Key"] for item in _objects(f"tenants/{_segment(tenant_id)}/vicinato/cases/{_segment(case_id)}/")]
    delete_keys(keys)
    return len(keys)
