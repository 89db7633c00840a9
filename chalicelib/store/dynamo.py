"""The low-level DynamoDB client the hot paths share, and reading its plain items."""
from __future__ import annotations

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from chalicelib.store import aws

_deserializer = TypeDeserializer()


def client():
    return aws.client("dynamodb")


def is_conditional(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def plain(item: dict) -> dict:
    """A DynamoDB item in wire format ({"S": ...}) as plain Python values."""
    return {key: _deserializer.deserialize(value) for key, value in item.items()}
