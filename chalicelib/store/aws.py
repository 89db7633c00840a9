"""The boto3 clients the hot paths share (DynamoDB, SQS, SES): built once per Lambda instance (or local process),
each with a connection pool as large as the threads that share it. A Lambda's sender writes from SEND_THREADS
threads, and make dev runs every consumer in one process (about 40 threads at a broadcast's peak); with botocore's
default pool of 10, each call beyond it opened a connection and dropped it afterwards. S3 and Cognito build their
own (media.py, identity.py): neither is on a hot path."""
from __future__ import annotations

from functools import cache

import boto3
from botocore.config import Config

POOL_CONNECTIONS = 50


@cache
def client(service: str):
    return boto3.client(service, config=Config(max_pool_connections=POOL_CONNECTIONS))
