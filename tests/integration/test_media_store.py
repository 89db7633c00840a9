"""Report photos in the media bucket, against moto in this process (no local stack needed)."""
from __future__ import annotations

import io
import uuid

import boto3
import pytest
import requests
from moto import mock_aws
from PIL import Image

from chalicelib.domain.images import check, strip_metadata
from chalicelib.resources import bucket_name
from chalicelib.store import media

REGION = "eu-south-1"


@pytest.fixture
def s3(monkeypatch):
    """moto's S3 in memory, with the media bucket; the cached client is rebuilt before and after.

    reset=False and remove_data=False: moto's backends are global to the process, and the session `stack` (moto
    server in a thread) may be running on them; a plain mock_aws would wipe its tables and queues when it starts
    and stops. So the bucket may already exist, and each test uses report ids of its own.
    """
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # the stack points boto3 at its moto server
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(name, value)
    mock = mock_aws()
    mock.start(reset=False)
    media._client.cache_clear()
    try:
        client = boto3.client("s3")
        try:
            client.create_bucket(Bucket=bucket_name("media"), CreateBucketConfiguration={"LocationConstraint": REGION})
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
        client.put_bucket_encryption(Bucket=bucket_name("media"), ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})  # as local/bootstrap.py does
        yield client
    finally:
        media._client.cache_clear()
        mock.stop(remove_data=False)


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 1  # orientation: upright
    exif[0x8825] = {1: "N", 2: (43.0, 43.0, 12.5), 3: "E", 4: (10.0, 55.0, 1.25)}  # GPS IFD
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(out, format="JPEG", exif=exif)
    return out.getvalue()


def new_id() -> str:
    return uuid.uuid4().hex


def test_put_photo_stores_both_copies_encrypted_and_typed(s3):
    tenant, report, photo = "demo", new_id(), new_id()
    original = jpeg_with_gps()
    checked = check(original)
    public = strip_metadata(original)

    stored = media.put_photo(tenant, report, photo, original, public, checked)

    prefix = f"tenants/demo/reports/{report}/{photo}/"
    assert stored == {"id": photo, "original_key": prefix + "original.jpg", "public_key": prefix + "public.jpg",
                      "content_type": "image/jpeg", "size": len(original), "width": 32, "height": 24}
    for key, body in ((stored["original_key"], original), (stored["public_key"], public)):
        head = s3.head_object(Bucket=bucket_name("media"), Key=key)
        assert head["ContentType"] == "image/jpeg"
        assert head["ServerSideEncryption"] == "AES256"  # the bucket's default applies (SSE-KMS in AWS)
        assert s3.get_object(Bucket=bucket_name("media"), Key=key)["Body"].read() == body


def test_presigned_url_serves_the_bytes(s3):
    report, photo = new_id(), new_id()
    original = jpeg_with_gps()
    public = strip_metadata(original)
    stored = media.put_photo("demo", report, photo, original, public, check(original))

    url = media.presigned_url(stored["public_key"], expires_seconds=60)

    assert url.startswith(f"https://{bucket_name('media')}.s3.{REGION}.amazonaws.com/{stored['public_key']}?")
    assert "X-Amz-Expires=60" in url and "X-Amz-Signature=" in url
    answer = requests.get(url, timeout=10)  # moto's responses mock answers s3 URLs in this process
    assert answer.status_code == 200
    assert answer.content == public
    assert answer.headers["Content-Type"] == "image/jpeg"


def test_delete_report_media_removes_that_report_only(s3, monkeypatch):
    monkeypatch.setattr(media, "_LIST_PAGE", 3)  # several list pages and delete batches with few objects
    monkeypatch.setattr(media, "_DELETE_BATCH", 4)
    original = jpeg_with_gps()
    public, checked = strip_metadata(original), check(original)
    report, other = new_id(), new_id()
    mine = [media.put_photo("demo", report, new_id(), original, public, checked) for _ in range(5)]
    kept = media.put_photo("demo", other, new_id(), original, public, checked)
    neighbour = media.put_photo("demo", report + "0", new_id(), original, public, checked)  # same prefix, no slash

    assert media.delete_report_media("demo", report) == 10

    bucket = bucket_name("media")
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"tenants/demo/reports/{report}/")["KeyCount"] == 0
    for photo in mine:
        for key in (photo["original_key"], photo["public_key"]):
            with pytest.raises(s3.exceptions.ClientError):
                s3.head_object(Bucket=bucket, Key=key)
    for photo in (kept, neighbour):
        for key in (photo["original_key"], photo["public_key"]):
            assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    assert media.delete_report_media("demo", report) == 0


@pytest.mark.parametrize("bad", ["", "../other", "a/b", ".hidden", "x" * 200])
def test_ids_that_would_escape_the_layout_are_refused(bad):
    with pytest.raises(ValueError):
        media.photo_keys("demo", "r1", bad, "jpg")
    with pytest.raises(ValueError):
        media.report_prefix(bad, "r1")
