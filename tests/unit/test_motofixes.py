"""The local stack's changes to moto's SQS cost less and answer as moto does: counts, receives, deletes by handle."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import motofixes

COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]


def in_memory_with_the_fixes(monkeypatch) -> None:
    """This process's AWS clients on moto in memory (no local endpoints), with the local stack's changes to it."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-south-1")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    motofixes.apply()


@pytest.fixture
def sqs(monkeypatch):
    in_memory_with_the_fixes(monkeypatch)
    with mock_aws():
        client = boto3.client("sqs", aws_access_key_id="x", aws_secret_access_key="x")
        url = client.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        yield client, url


def counts(client, url) -> list[int]:
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return [int(attributes[name]) for name in COUNTS]


def receive(client, url, most: int = 10, wait: int = 0) -> list[dict]:
    return client.receive_message(QueueUrl=url, MaxNumberOfMessages=most, WaitTimeSeconds=wait).get("Messages", [])


def test_a_receive_takes_what_it_asks_for_in_order_and_the_counts_follow(sqs):
    client, url = sqs
    for number in range(25):
        client.send_message(QueueUrl=url, MessageBody=str(number))
    client.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert counts(client, url) == [25, 0, 1]

    first = receive(client, url)
    assert [m["Body"] for m in first] == [str(n) for n in range(10)]
    assert counts(client, url) == [15, 10, 1]
    assert [m["Body"] for m in receive(client, url, most=3)] == ["10", "11", "12"]


def test_a_delete_finds_its_message_by_any_handle_it_was_given_and_refuses_a_made_up_one(sqs):
    client, url = sqs
    for body in ("a", "b", "c"):
        client.send_message(QueueUrl=url, MessageBody=body)
    [a, b, c] = receive(client, url)
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=b["ReceiptHandle"], VisibilityTimeout=0)
    [again] = receive(client, url, most=1)
    assert again["Body"] == "b" and again["ReceiptHandle"] != b["ReceiptHandle"]

    answer = client.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": a["ReceiptHandle"]},
        {"Id": "b-old", "ReceiptHandle": b["ReceiptHandle"]},  # an earlier handle of a message still names it
        {"Id": "made-up", "ReceiptHandle": "not-a-handle"}])
    assert sorted(s["Id"] for s in answer["Successful"]) == ["a", "b-old"]
    assert [(f["Id"], f["Code"]) for f in answer["Failed"]] == [("made-up", "ReceiptHandleIsInvalid")]
    client.delete_message(QueueUrl=url, ReceiptHandle=a["ReceiptHandle"])  # deleted already: no error, as SQS
    assert counts(client, url) == [0, 1, 0]  # c only, still invisible

    client.change_message_visibility(QueueUrl=url, ReceiptHandle=c["ReceiptHandle"], VisibilityTimeout=0)
    assert [m["Body"] for m in receive(client, url)] == ["c"]


def test_a_handle_of_another_queue_deletes_nothing_here(sqs):
    client, url = sqs
    other = client.create_queue(QueueName="other")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="mine")
    client.send_message(QueueUrl=other, MessageBody="theirs")
    [theirs] = receive(client, other)
    with pytest.raises(ClientError) as refused:
        client.delete_message(QueueUrl=url, ReceiptHandle=theirs["ReceiptHandle"])
    assert refused.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    assert counts(client, url) == [1, 0, 0] and counts(client, other) == [0, 1, 0]


def test_a_long_poll_of_an_empty_queue_waits_and_answers_nothing(sqs):
    client, url = sqs
    assert receive(client, url, wait=1) == []


def test_a_delete_waits_for_a_send_in_progress_and_the_message_sent_is_kept(sqs):
    """moto rebuilds the queue's list on a delete; a message appended meanwhile by a send was answered and lost (two
    statuses of a flood's 20,000). The delete now holds the lock a send appends under."""
    import threading

    from moto.sqs.models import sqs_backends

    client, url = sqs
    client.send_message(QueueUrl=url, MessageBody="taken")
    [taken] = receive(client, url)
    queue = sqs_backends["123456789012"]["eu-south-1"].queues["work"]
    deleter = threading.Thread(target=client.delete_message, kwargs={"QueueUrl": url,
                                                                       "ReceiptHandle": taken["ReceiptHandle"]})
    with queue._messages_lock:  # a send appending right now
        deleter.start()
        deleter.join(0.5)
        assert deleter.is_alive()
        client.send_message(QueueUrl=url, MessageBody="sent meanwhile")
    deleter.join(10)
    assert not deleter.is_alive()
    assert [m["Body"] for m in receive(client, url)] == ["sent meanwhile"]
    assert counts(client, url) == [0, 1, 0]


@pytest.fixture
def dynamodb_answers_compared(monkeypatch):
    """A DynamoDB client whose every answer is written both ways, json and moto's own serialiser: the test compares."""
    import json

    from moto.dynamodb.responses import DynamoHandler

    in_memory_with_the_fixes(monkeypatch)
    fast, compared = DynamoHandler.serialized, []

    def both(self, action_result):
        ours, moto = fast(self, action_result), fast.filo_moto(self, action_result)
        compared.append((self._get_action(), ours[0], moto[0], ours[2] and json.loads(ours[2]),
                         moto[2] and json.loads(moto[2]), ours[1].get("Content-Type"), moto[1].get("Content-Type")))
        return ours

    monkeypatch.setattr(DynamoHandler, "serialized", both)
    with mock_aws():
        client = boto3.client("dynamodb", aws_access_key_id="x", aws_secret_access_key="x")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}])
        yield client, compared


def test_item_answers_written_as_json_are_the_answers_moto_writes(dynamodb_answers_compared):
    client, compared = dynamodb_answers_compared
    item = {"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\xffphoto"},
            "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"\x01"]}, "no": {"NULL": True},
            "ok": {"BOOL": False}, "l": {"L": [{"S": "è"}, {"N": "3"}]}, "m": {"M": {"k": {"S": "v"}}}}
    client.put_item(TableName="t", Item=item, ReturnConsumedCapacity="TOTAL")
    for number in range(2, 6):
        client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": str(number)}})
    client.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ReturnConsumedCapacity="TOTAL")
    client.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "none"}})
    client.update_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, UpdateExpression="SET n = n + :one",
                       ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_OLD")
    with pytest.raises(ClientError) as refused:
        client.update_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, UpdateExpression="SET n = :one",
                           ConditionExpression="attribute_not_exists(pk)", ExpressionAttributeValues={":one": {"N": "1"}},
                           ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert refused.value.response["Item"]["b"]["B"] == b"\x00\xffphoto"
    page = client.query(TableName="t", KeyConditionExpression="pk = :a", ExpressionAttributeValues={":a": {"S": "a"}},
                        Limit=2, ReturnConsumedCapacity="TOTAL")
    assert page["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"S": "2"}}
    assert client.scan(TableName="t", Select="COUNT")["Count"] == 5
    client.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "a"}, "sk": {"S": "1"}},
                                                       {"pk": {"S": "a"}, "sk": {"S": "9"}}]}})
    client.batch_write_item(RequestItems={"t": [{"DeleteRequest": {"Key": {"pk": {"S": "a"}, "sk": {"S": "5"}}}}]})
    client.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}}])
    client.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}}}}])
    deleted = client.delete_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ReturnValues="ALL_OLD")
    assert deleted["Attributes"]["bs"]["BS"] == [b"\x01"] and deleted["Attributes"]["l"]["L"][0]["S"] == "è"
    client.describe_table(TableName="t")  # not an item answer: moto's writer alone

    actions = {action for action, *_ in compared}
    assert motofixes.ITEM_ACTIONS <= actions
    for action, status, moto_status, body, moto_body, kind, moto_kind in compared:
        assert (action, status, body, kind) == (action, moto_status, moto_body, moto_kind)


def test_an_update_expression_parsed_once_still_applies_each_requests_names_and_values(dynamodb_answers_compared):
    client, _ = dynamodb_answers_compared
    expression = "SET #s = :s, seen = if_not_exists(seen, :s) ADD hits :one"
    for pk, status in (("a", "sent"), ("b", "read"), ("a", "delivered")):
        client.update_item(TableName="t", Key={"pk": {"S": pk}, "sk": {"S": "1"}}, UpdateExpression=expression,
                           ExpressionAttributeNames={"#s": "status"},
                           ExpressionAttributeValues={":s": {"S": status}, ":one": {"N": "1"}})
    items = {i["pk"]["S"]: i for i in client.scan(TableName="t")["Items"]}
    assert {pk: (i["status"]["S"], i["seen"]["S"], i["hits"]["N"]) for pk, i in items.items()} == {
        "a": ("delivered", "sent", "2"), "b": ("read", "read", "1")}
    for _ in range(2):  # a placeholder the request does not define is refused every time
        with pytest.raises(ClientError):
            client.update_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, UpdateExpression=expression,
                               ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "x"}})


def test_a_condition_parsed_once_is_judged_on_each_requests_values(dynamodb_answers_compared):
    client, _ = dynamodb_answers_compared
    key = {"pk": {"S": "c"}, "sk": {"S": "1"}}
    condition = "attribute_not_exists(#r) OR #r < :rank"

    def advance(rank: int, **extra) -> bool:
        try:
            client.update_item(TableName="t", Key=key, ConditionExpression=condition,
                               UpdateExpression="SET #r = :rank, seen = list_append(if_not_exists(seen, :none), :this)",
                               ExpressionAttributeNames={"#r": "rank"},
                               ExpressionAttributeValues={":rank": {"N": str(rank)}, ":none": {"L": []},
                                                          ":this": {"L": [{"N": str(rank)}]}, **extra})
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    assert [advance(rank) for rank in (2, 1, 3, 3, 2, 5)] == [True, False, True, False, False, True]
    item = client.get_item(TableName="t", Key=key)["Item"]
    assert item["rank"] == {"N": "5"} and [n["N"] for n in item["seen"]["L"]] == ["2", "3", "5"]
    for _ in range(2):  # a value the request gives and nothing uses is refused each time, as moto refuses it
        with pytest.raises(ClientError) as unused:
            advance(6, **{":spare": {"S": "x"}})
        assert unused.value.response["Error"]["Code"] == "ValidationException"
    assert client.get_item(TableName="t", Key=key)["Item"]["rank"] == {"N": "5"}


UPDATES = [  # (update expression, names, values): what moto's validator checks, accepted and refused
    ("SET #s = :s, n = n + :one, seen = if_not_exists(seen, :s), l = list_append(l, :l)", {"#s": "status"},
     {":s": {"S": "read"}, ":one": {"N": "1"}, ":l": {"L": [{"N": "9"}]}}),
    ("SET m.mi.md = :s, l[0] = :one REMOVE gone, l[1] ADD tg :tags, t1 :one DELETE bag :bag", {},
     {":s": {"S": "x"}, ":one": {"N": "1"}, ":tags": {"SS": ["a"]}, ":bag": {"SS": ["p"]}}),
    ("SET n = :one - n, n2 = :one + :one", {}, {":one": {"N": "1"}}),
    ("SET n = n + :s", {}, {":s": {"S": "not a number"}}),  # type mismatch in arithmetic
    ("SET pk = :s", {}, {":s": {"S": "a key"}}),  # a key attribute
    ("SET m = :s, m.mi = :s", {}, {":s": {"S": "x"}}),  # overlapping paths
    ("SET nx.ny = :s", {}, {":s": {"S": "x"}}),  # a path under nothing
    ("SET l[5] = :s, n = #nope", {}, {":s": {"S": "x"}}),  # a name not defined
    ("ADD n :s", {}, {":s": {"S": "x"}}),  # ADD of a string
    ("SET a = :s SET b = :s", {}, {":s": {"S": "x"}}),  # a clause twice
    ("REMOVE ss", {}, {}),
    ("SET sk = :e", {}, {":e": {"S": ""}}),  # a key attribute again, as an empty string
]


def update_outcomes(client, prefix: str) -> list:
    outcomes = []
    for number, (expression, names, values) in enumerate(UPDATES):
        key = {"pk": {"S": f"{prefix}{number}"}, "sk": {"S": "1"}}
        client.put_item(TableName="t", Item={**key, "n": {"N": "2"}, "l": {"L": [{"N": "1"}, {"N": "2"}]},
                                             "m": {"M": {"mi": {"M": {}}}}, "gone": {"S": "x"},
                                             "bag": {"SS": ["p", "q"]}, "ss": {"S": "y"}})
        extra = {"ExpressionAttributeNames": names} if names else {}
        if values:
            extra["ExpressionAttributeValues"] = values
        try:
            client.update_item(TableName="t", Key=key, UpdateExpression=expression, **extra)
            item = client.get_item(TableName="t", Key=key)["Item"]
            outcomes.append(("applied", {k: v for k, v in item.items() if k != "pk"}))
        except ClientError as error:
            outcomes.append(("refused", error.response["Error"]["Code"], error.response["Error"]["Message"]))
    return outcomes


def test_update_trees_walked_by_class_apply_and_refuse_as_moto_does(dynamodb_answers_compared, monkeypatch):
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node

    client, _ = dynamodb_answers_compared
    ours = update_outcomes(client, "ours")
    assert [outcome[0] for outcome in ours].count("refused") >= 8
    monkeypatch.setattr(DepthFirstTraverser, "traverse_node_recursively",
                        DepthFirstTraverser.traverse_node_recursively.filo_moto)
    monkeypatch.setattr(Node, "find_clauses", Node.find_clauses.filo_moto)
    assert update_outcomes(client, "moto") == ours
