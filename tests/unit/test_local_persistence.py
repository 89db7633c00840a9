"""make dev's state between restarts: where it lives, its secrets, a clean start, and a quiet terminal by default."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import jwt
import pytest

from local.devserver import Stack, access_log_wanted
from local.issuer import LocalIssuer
from local.persistence import LocalDir, local_dir
from local.snapshot import decode_item, encode_item


def test_the_local_dir_follows_the_state_file_unless_named(tmp_path):
    state_file = tmp_path / "somewhere" / "dev.json"
    assert local_dir({}, state_file) == tmp_path / "somewhere"
    assert local_dir({"FILO_LOCAL_DIR": str(tmp_path / "own")}, state_file) == tmp_path / "own"


def test_secrets_are_made_once_kept_private_and_read_back(tmp_path):
    first = LocalDir(tmp_path).secrets({})
    again = LocalDir(tmp_path).secrets({})
    assert again == first
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert len({first.staff_password, first.app_secret, first.verify_token, first.open311_api_key}) == 4


def test_fixed_secrets_from_the_environment_win_without_replacing_the_kept_ones(tmp_path):
    kept = LocalDir(tmp_path).secrets({})
    fixed = LocalDir(tmp_path).secrets({"FILO_STAFF_PASSWORD": "pw", "FILO_APP_SECRET": "s", "FILO_VERIFY_TOKEN": "v"})
    assert (fixed.staff_password, fixed.app_secret, fixed.verify_token) == ("pw", "s", "v")
    assert LocalDir(tmp_path).secrets({}) == kept


def test_a_wipe_forgets_secrets_and_data_but_nothing_else(tmp_path):
    folder = LocalDir(tmp_path)
    before = folder.secrets({})
    (folder.data_dir / "objects").mkdir(parents=True)
    (folder.data_dir / "snapshot.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("mine")
    folder.wipe()
    assert not folder.data_dir.exists() and (tmp_path / "notes.txt").exists()
    assert folder.secrets({}) != before


def test_an_issuer_made_from_kept_secrets_signs_tokens_the_next_one_accepts(tmp_path):
    secrets = LocalDir(tmp_path).secrets({})
    token = LocalIssuer(secrets.issuer_key_pem, secrets.issuer_kid).token("demo", ["admin"])
    later = LocalIssuer(secrets.issuer_key_pem, secrets.issuer_kid)
    jwks = jwt.PyJWKSet.from_json(later.jwks())  # the inline JWKS the app is given (STAFF_JWKS)
    claims = jwt.decode(token, jwks[secrets.issuer_kid].key, algorithms=["RS256"], audience="filo-diretto-local")
    assert claims["custom:tenant"] == "demo"


def test_the_tests_stack_keeps_nothing_between_sessions():
    stack = Stack(api_port=1, sandbox_port=2, moto_port=3, web_port=4)
    assert stack.data_dir is None  # tests/conftest.py's stack starts empty every session and saves nothing


def test_typed_items_with_binary_values_survive_the_json_of_a_snapshot():
    item = {"id": {"S": "a"}, "n": {"N": "1.50"}, "blob": {"B": b"\x00\xff"}, "blobs": {"BS": [b"x", b"y"]},
            "map": {"M": {"inner": {"L": [{"B": b"z"}, {"BOOL": True}, {"NULL": True}]}}}, "tags": {"SS": ["a"]}}
    assert decode_item(json.loads(json.dumps(encode_item(item)))) == item


def test_access_lines_only_when_asked():
    assert not access_log_wanted({})
    assert not access_log_wanted({"FILO_LOG_LEVEL": "WARNING"})
    assert access_log_wanted({"FILO_LOG_LEVEL": "info"})
    assert access_log_wanted({"FILO_ACCESS_LOG": "1"})
    assert not access_log_wanted({"FILO_ACCESS_LOG": "0", "FILO_LOG_LEVEL": "ERROR"})


def test_the_data_dir_is_under_the_local_dir(tmp_path):
    assert LocalDir(tmp_path).data_dir == Path(tmp_path) / "data"


def _request(method: str, target: str | None = None) -> dict:
    return {"REQUEST_METHOD": method, **({"HTTP_X_AMZ_TARGET": target} if target else {})}


def test_the_write_watch_sees_every_request_that_may_change_data_and_no_reads():
    from local.motoserver import WriteWatch

    watch = WriteWatch(lambda environ, start_response: [b""])
    assert not watch.take_changes()  # nothing yet
    for read in (_request("POST", "DynamoDB_20120810.Query"), _request("POST", "DynamoDB_20120810.Scan"),
                 _request("POST", "DynamoDB_20120810.GetItem"), _request("POST", "DynamoDB_20120810.BatchGetItem"),
                 _request("POST", "DynamoDB_20120810.DescribeTable"), _request("GET"), _request("HEAD"),
                 _request("POST", "AmazonSQS.ReceiveMessage"), _request("POST", "AmazonSQS.SendMessage")):
        watch(read, None)
    assert not watch.take_changes()  # reads, and queue traffic (kept only at a clean stop)
    for write in (_request("POST", "DynamoDB_20120810.PutItem"), _request("POST", "DynamoDB_20120810.UpdateItem"),
                  _request("POST", "DynamoDB_20120810.TransactWriteItems"), _request("PUT"), _request("DELETE"),
                  _request("POST")):  # an S3 upload or delete, or any call we do not know: a write, to be safe
        watch(write, None)
        assert watch.take_changes()
        assert not watch.take_changes()  # taken: clear until the next write


def test_one_make_dev_at_a_time_per_local_dir(tmp_path):
    first = LocalDir(tmp_path)
    first.lock()
    with pytest.raises(SystemExit, match="another make dev"):  # its snapshots would overwrite each other's
        LocalDir(tmp_path).lock()
    first.unlock()
    LocalDir(tmp_path).lock()


def test_the_write_watch_answers_another_process_over_http_once_per_write():
    from local.motoserver import CHANGES_PATH, WriteWatch

    watch = WriteWatch(lambda environ, start_response: [b""])
    ask = {"PATH_INFO": CHANGES_PATH, "REQUEST_METHOD": "GET"}
    answers = lambda: b"".join(watch(ask, lambda status, headers: None))  # noqa: E731
    assert answers() == b"0"
    watch(_request("POST", "DynamoDB_20120810.PutItem"), None)
    assert (answers(), answers()) == (b"1", b"0")  # asked: clear until the next write


def test_snapshots_are_spaced_by_what_they_cost():
    """A snapshot that takes long (much data, a busy machine) is not taken again at once: the next waits twenty
    times as long as it took, or the period if that is longer."""
    import threading
    import time

    from local.snapshot import Snapshotter

    class Slow:
        def take(self) -> bool:
            time.sleep(0.05)
            return True

    snapshotter = Snapshotter(Slow(), period=0.01, stop=threading.Event())
    assert snapshotter._take()
    assert snapshotter.wait >= Snapshotter.SPACING * 0.05
    quick = Snapshotter(Slow(), period=5.0, stop=threading.Event())
    assert quick._take() and quick.wait == 5.0
