"""Reports and police tips: WhatsApp intake with photos and positions, the portal's form and Open311 requests,
the office's desk (triage, lifecycle, notes, merge, forwarding), citizen updates and wording, the public
views (portal, status page), KPIs, and what erasure and retention do to reports and their photos."""
