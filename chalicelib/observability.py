"""The one Powertools Logger and Metrics of the app (service name and namespace from the environment), and what
makes identifiers fit for logs: phone numbers are masked (domain.phones.mask), provider message ids digested."""
from __future__ import annotations

import hashlib
import os
import re

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger(service="filo-diretto")
metrics = Metrics(namespace="FiloDiretto", service="filo-diretto")


def count(name: str, **dimensions: str) -> None:
    """One Count metric at once (an EMF line CloudWatch reads off the log), for events outside a metrics-flushing
    handler; silent where metrics are off (POWERTOOLS_METRICS_DISABLED, as in the local stage)."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)


# Meta's message ids carry the citizen's WhatsApp id (their number) base64-encoded: "wamid.HBgL" + base64 of
# a frame holding e.g. "16503879439". Logs get a digest instead, the same for the same id, so lines still correlate.
_WAMID = re.compile(r"wamid\.[A-Za-z0-9+/=_-]+")


def ref(value: str | None) -> str:
    """An id for logs: any provider message id in it (a wamid, or a job id derived from one) digested."""
    if not value:
        return "-"
    return _WAMID.sub(lambda m: "wamid#" + hashlib.sha256(m.group(0).encode()).hexdigest()[:12], value)


_E164 = re.compile(r"\+\d{8,15}")


def scrub(text: str) -> str:
    """Free text bound for a log line (an exception's message): provider message ids digested and E.164 numbers
    masked (domain.phones.mask: +39******55)."""
    from chalicelib.domain.phones import mask  # phonenumbers loads with the first scrub, not with every import

    return _E164.sub(lambda m: mask(m.group(0)), ref(text)) if text else ""
