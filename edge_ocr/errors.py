"""One error hierarchy so the CLI and the daemon can tell bad input from bugs."""


class EdgeOcrError(Exception):
    """Base of every error the package raises on purpose."""


class ConfigError(EdgeOcrError):
    """A configuration file, option or value is wrong; the message names the key."""


class ModelError(EdgeOcrError):
    """A model folder, file, checksum, label list or input shape is wrong."""


class SourceError(EdgeOcrError):
    """An image, video, camera or folder cannot be read."""


class SinkError(EdgeOcrError):
    """An output (log file, MQTT broker, spool) cannot take an event."""
