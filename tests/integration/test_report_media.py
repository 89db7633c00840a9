"""Voice notes, videos and documents on the reports and safety channels (issue 13, section 5): sent from the sandbox
phone as WhatsApp sends them, checked by content, bounded in size, kept in S3 with the report, served to the staff
who may read it through short-lived links, never published."""
from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from chalicelib.resources import bucket_name
from local.sandbox.inbound import voice_note
from tests.integration.own_comuni import OwnLine, OwnTown
from tests.integration.test_reports import wait_text
from tests.integration.test_safety import last_text
from tests.unit.test_attachments import MP4_VIDEO, PDF
from tests.waiting import wait_for


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def objects(tenant: str, report_id: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket_name("media"),
                                                Prefix=f"tenants/{tenant}/reports/{report_id}/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_a_voice_note_a_video_and_a_pdf_are_kept_with_the_report_for_staff_only(stack):
    town = OwnTown(stack)
    citizen = town.phone("+39 333 730 0001")
    citizen.send(type="audio")  # a voice note first: it opens the report, as a text would
    assert "n. " in wait_text(citizen, "Abbiamo registrato la tua segnalazione")
    citizen.text("Il tombino in via Dante fa un rumore fortissimo")
    wait_text(citizen, "Aggiunto alla segnalazione")
    citizen.send(type="video", video_base64=b64(MP4_VIDEO), mime_type="video/mp4", caption="Ecco il rumore")
    wait_text(citizen, "Video aggiunto alla segnalazione")
    citizen.send(type="document", document_base64=b64(PDF), mime_type="application/pdf", filename="esposto.pdf")
    wait_text(citizen, "Documento aggiunto alla segnalazione")

    report = town.wait_report(lambda r: True)
    detail = town.report(report["id"])
    assert detail["photos"] == [] and "Ecco il rumore" in detail["text"]
    files = detail["attachments"]
    assert [(f["kind"], f["status"], f["content_type"]) for f in files] == [
        ("audio", "stored", "audio/ogg"), ("video", "stored", "video/mp4"), ("document", "stored", "application/pdf")]
    for sent, file in zip((voice_note(), MP4_VIDEO, PDF), files, strict=True):
        assert requests.get(file["url"], timeout=10).content == sent  # the presigned link serves the bytes as sent
        assert parse_qs(urlsplit(file["url"]).query)["X-Amz-Expires"] == ["300"]
    assert [e["action"] for e in detail["events"] if e["actor"] == "citizen"][:4] == [
        "created", "audio", "text", "video"]  # the history names each file for what it is (it said "photo")
    assert "attachment" in parse_qs(urlsplit(files[2]["url"]).query)["response-content-disposition"][0]
    keys = objects(town.tenant, report["id"])
    assert len(keys) == 3 and all("/original." in k for k in keys)  # no public copy of these, ever
    refused = town.call("POST", f"/api/v1/reports/{report['id']}/photos/{files[0]['id']}/publish",
                        json={"published": True})
    assert refused.status_code == 409


def test_a_tips_voice_note_is_for_the_police_only(stack):
    line = OwnLine(stack)
    resident = line.resident("+39 339 730 0002")
    resident.send(type="audio")
    last_text(resident, "Segnalazione ricevuta|non è presidiata")
    [tip] = wait_for(lambda: line.call("GET", "/api/v1/reports", params={"kind": "safety"}).json()["items"], 10)
    [voice] = line.call("GET", f"/api/v1/reports/{tip['id']}").json()["attachments"]
    assert (voice["kind"], voice["status"]) == ("audio", "stored")
    assert requests.get(voice["url"], timeout=10).content == voice_note()
    for role in ("technical", "admin"):
        assert line.call("GET", f"/api/v1/reports/{tip['id']}", role=role).status_code == 404


@pytest.mark.parametrize("message, reply, reason", [
    ({"type": "document", "document_base64": b64(b"PK\x03\x04" + bytes(300)), "filename": "esposto.docx",
      "mime_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
     "Questo tipo di file non è supportato", "unsupported_type"),
    ({"type": "document", "document_base64": b64(PDF[:-7]), "mime_type": "application/pdf"},
     "danneggiato", "damaged"),
    ({"type": "audio", "audio_base64": b64(b"ID3\x04" + bytes(1_100_000)), "mime_type": "audio/mpeg"},
     r"troppo grande \(massimo 1 MB\)", "too_large"),
])
def test_a_refused_file_gets_a_clear_reply_and_nothing_reaches_the_bucket(stack, message, reply, reason):
    town = OwnTown(stack, media_max_bytes=1024 * 1024)
    citizen = town.phone("+39 333 730 0003")
    citizen.text("Rami caduti in via Verdi")
    wait_text(citizen, "n. ")
    citizen.send(**message)
    assert "La segnalazione n. " in wait_text(citizen, reply)
    report = town.wait_report(lambda r: True)
    [file] = town.report(report["id"])["attachments"]
    assert (file["status"], file["reason"], file["url"]) == ("refused", reason, None)
    assert objects(town.tenant, report["id"]) == []


def test_a_sticker_is_still_explained(stack):
    town = OwnTown(stack)
    citizen = town.phone("+39 333 730 0004")
    citizen.send(type="sticker")
    assert "messaggi vocali, video, documenti PDF" in wait_text(citizen, "Possiamo ricevere")
    assert town.reports() == []
