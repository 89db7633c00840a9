"""Broadcasts: staff compose and act on them (compose), preview the audience and WhatsApp's pre-flight (preview),
the due ones are claimed and started (schedule), and each audience is paged into outbound jobs (fanout)."""
