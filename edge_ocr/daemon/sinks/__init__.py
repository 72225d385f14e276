"""Event outputs: JSON-lines log, MQTT (through a durable spool), plate crops.

Part of the daemon: may import the daemon's config and the shared basics (types, errors), never the reader.
"""

from edge_ocr.daemon.sinks.base import EVENT_SCHEMA, STATS_SCHEMA, Sink, Stats, event_to_json

__all__ = ["EVENT_SCHEMA", "STATS_SCHEMA", "Sink", "Stats", "event_to_json"]
