"""The camera daemon (`edge-ocr run`): sources -> Reader -> tracker -> sinks, with threads and signals.

runner.py owns the loop (capture thread, latest frame wins; sd_notify and watchdog via notify.py;
stats.py); config.py parses and validates the TOML config shared by `run` and `check-config`
(cli.py); motion.py gates frames without change; follow.py detects every frame and reads only the
plates whose track is not settled; track.py turns per-frame reads into one event per vehicle;
memory.py sets glibc's malloc for a long run; sources/ (files, OpenCV, picamera2) and sinks/ (JSON lines, MQTT with a SQLite spool,
crops). May import the reader and the shared basics; never text, bench or synth.
"""
