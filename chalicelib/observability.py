"""The one Powertools Logger and Metrics of the app (service name and namespace from the environment)."""
from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="filo-diretto")
metrics = Metrics(namespace="FiloDiretto", service="filo-diretto")
