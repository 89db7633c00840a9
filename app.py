"""Filo Diretto's entry points: every route, queue consumer and schedule of the system, in one table."""
from chalice import Chalice, ConvertToMiddleware, Rate, Response

from chalicelib.api import (
    agenda,
    alerts,
    audit,
    broadcasts,
    console,
    conversations,
    exports,
    lazy,
    open311,
    openapi,
    portal,
    privacy,
    public,
    reports,
    settings,
    staff,
    staff_admin,
    templates,
    usage,
    vicinato,
    vicinato_portal,
    webhooks,
)
from chalicelib.observability import logger, metrics
from chalicelib.resources import queue_name
from chalicelib.settings import get_settings

# Cold start (issue 18): each queue consumer and schedule imports its services on its first call, as each blueprint
# does for its routes (chalicelib/api/__init__.py), so no Lambda function pays for another's modules.
consumers = lazy("chalicelib.api.consumers")
health = lazy("chalicelib.services.health")
schedule = lazy("chalicelib.services.broadcasts.schedule")
digest = lazy("chalicelib.services.reports.digest")
media_retention = lazy("chalicelib.services.reports.media_retention")

# The statuses queue's batches (status_worker): a broadcast of 10,000 brings 30,000 status webhooks; a batch of up to
# 100, gathered for up to a second, writes each delivery once with its latest status and each broadcast's counters
# once. `status_consumers` batches at a time, 2 by default (docs/deploy.md).
STATUS_BATCH = 100

app = Chalice(app_name="filo-diretto")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
app.api.binary_types.append(exports.XLSX)  # an XLSX export leaves as bytes (base64 through API Gateway)
app.api.binary_types.append("application/zip")  # the privacy desk's subject-access archive, likewise

app.register_blueprint(webhooks.bp)  # /webhooks/meta: Meta's handshake and signed webhooks
app.register_blueprint(staff.bp)  # /api/v1: the staff API (bearer JWT)
app.register_blueprint(broadcasts.bp)  # /api/v1/broadcasts: compose, preview, schedule, track
app.register_blueprint(reports.bp)  # /api/v1/reports: reports and tips, KPIs; /s/{token}: status pages
app.register_blueprint(public.bp)  # /public/v1: citizen-facing endpoints
app.register_blueprint(portal.bp)  # /public/v1: the citizen portal's map, status and report form; photo publishing
app.register_blueprint(open311.bp)  # /open311/v2: Open311 GeoReport v2 over the reports
app.register_blueprint(openapi.bp)  # /api/v1/openapi.json: the OpenAPI 3.1 document of /api/v1 and /public/v1
app.register_blueprint(audit.bp)  # /api/v1/audit: the audit log viewer, its pickers and export
app.register_blueprint(privacy.bp)  # /api/v1/privacy: erasure and subject-access export of one phone number
app.register_blueprint(exports.bp)  # /api/v1/exports: CSV and XLSX files; /api/v1/citizens/{phone}: one citizen
app.register_blueprint(console.bp)  # /api/v1/tenant, broadcast-preview, stats: what the staff console reads
app.register_blueprint(conversations.bp)  # /api/v1/conversations: Messaggi, two-way conversations with citizens
app.register_blueprint(templates.bp)  # /api/v1/channels/{id}/templates: WhatsApp templates, Meta's review, purposes
app.register_blueprint(usage.bp)  # /api/v1/usage: messages per channel and month, estimated cost, price table
app.register_blueprint(staff_admin.bp)  # /api/v1/staff: the comune's staff users and roles (administration)
app.register_blueprint(settings.bp)  # /api/v1/settings, /api/v1/channels/{channel_id}/settings: the comune's settings
app.register_blueprint(alerts.bp)  # /api/v1/alerts: Allerte's overview; /alerts/v1/{tenant}/cap: CAP pushed by partners
app.register_blueprint(vicinato.bp)  # /api/v1/vicinato: the neighbourhood-watch relay (zones, people, cases, notices)
app.register_blueprint(agenda.bp)  # /public/v1/{tenant}/agenda, /api/v1/agenda: appointments (issue 17)
app.register_blueprint(vicinato_portal.bp)  # /public/v1/{tenant}/vicinato: the portal's Vicinato join (issue 16)


@app.route("/health", methods=["GET"])
def ready():
    try:
        return health.check()
    except Exception:  # any dependency down: not ready
        logger.exception("health check failed")
        return Response(body={"status": "unavailable"}, status_code=503)


@app.on_sqs_message(queue=queue_name("inbound"), batch_size=10)
def inbound_worker(event):
    """Verified webhook payloads: messages handled once each, statuses applied."""
    return consumers.process_inbound(event.to_dict(), event.context)


@app.on_sqs_message(queue=queue_name("statuses"), batch_size=STATUS_BATCH, maximum_batching_window_in_seconds=1,
                    maximum_concurrency=get_settings().status_consumers)
def status_worker(event):
    """Webhooks of statuses alone, up to STATUS_BATCH at a time: deliveries, broadcasts' counters, the usage meter."""
    return consumers.process_statuses(event.to_dict(), event.context)


@app.on_sqs_message(queue=queue_name("outbound"), batch_size=2, maximum_concurrency=get_settings().outbound_consumers)
def outbound_sender(event):
    """Every message we send: paced per channel (rate / consumers each), one recorded result per recipient."""
    return consumers.process_outbound(event.to_dict(), event.context)


@app.on_sqs_message(queue=queue_name("fanout"), batch_size=1)
def fanout_worker(event):
    """A running broadcast's audience, page by page into outbound jobs, checkpointed after each page."""
    return consumers.process_fanout(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def start_due_broadcasts(event):
    """Claims broadcasts whose time has come (scheduled -> sending, conditionally)."""
    return {"started": schedule.start_due()}


@app.schedule(Rate(1, unit=Rate.DAYS))
def sweep_report_photos(event):
    """Deletes the photos of reports that expired (retention) and are gone from DynamoDB."""
    return media_retention.sweep()


@app.schedule(Rate(1, unit=Rate.HOURS))
def send_overdue_digests(event):
    """Each working day from 07:00 (Europe/Rome), every team with an email gets its overdue reports, once a day."""
    return digest.send_due()


@app.schedule(Rate(5, unit=Rate.MINUTES))
def watch_dead_letters(event):
    """Dead letters never wait silently: count them, log an error while any wait."""
    counts = health.dead_letters()
    for logical, count in counts.items():
        metrics.add_metric(name=f"DeadLetters.{logical}", unit="Count", value=count)
    if any(counts.values()):
        logger.error("messages in dead-letter queues", extra={"dead_letters": counts})
    metrics.flush_metrics()
    return counts


@app.schedule(Rate(1, unit=Rate.DAYS))
def reconcile_audience_counts(event):
    """Recounts every channel's active subscribers per audience cell, fixes any drift and reports it (issue 18)."""
    from chalicelib.services.subscriptions import audiences

    return audiences.reconcile()


@app.schedule(Rate(5, unit=Rate.MINUTES))
def watch_alert_feeds(event):
    """Allerte: each comune's civil-protection feeds read when due (conditional GETs, backoff), then expiries."""
    from chalicelib.services.alerts import watch

    return watch.run()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def escalate_vicinato_reports(event):
    """Vicinato: a report nobody acted on in time goes to the zone's stand-in, then to the police (once each)."""
    from chalicelib.services.vicinato import schedules

    return schedules.escalate()


@app.schedule(Rate(1, unit=Rate.DAYS))
def sweep_vicinato_photos(event):
    """Vicinato: ID photos past the decision plus the comune's id_photo_days, photos of expired reports."""
    from chalicelib.services.vicinato import schedules

    return schedules.sweep()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def send_agenda_reminders(event):
    """Appointments: each reminder once, reminder_hours before; unconfirmed bookings past the no-show limit released."""
    from chalicelib.services.agenda import reminders  # lazily: `import app` stays without the agenda

    return reminders.send_due()
