"""Event outputs: JSON-lines log, MQTT (through a durable spool), plate crops."""

from edge_ocr.daemon.sinks.base import EVENT_SCHEMA, STATS_SCHEMA, Sink, Stats, event_to_json

__all__ = ["EVENT_SCHEMA", "STATS_SCHEMA", "Sink", "Stats", "event_to_json"]
