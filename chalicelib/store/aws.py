"""The boto3 clients the app's threads share (DynamoDB, SQS, SES): built once per Lambda instance (or local
process), each with a connection pool as large as the threads that may share it. A Lambda needs at most
SEND_THREADS + 1, within botocore's default pool of 10; make dev runs every consumer in one process (about 40
threads at a broadcast's peak), and there each call beyond the pool opened a connection and dropped it afterwards.
S3 and Cognito build their own (media.py, identity.py): one thread at a time uses them."""
from __future__ import annotations

from functools import cache

import boto3
from botocore.config import Config

POOL_CONNECTIONS = 50


@cache
def client(service: str):
    return boto3.client(service, config=Config(max_pool_connections=POOL_CONNECTIONS))
