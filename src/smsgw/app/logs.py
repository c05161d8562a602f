"""Where the gateway's log events go: text or JSON lines, filtered by level.

Everything logs through ``twisted.logger`` with a namespace per component
(``smsgw.net.cmpp30``, ``smsgw.pipeline.intake``, ...).  ``smsgw run
--log-format json`` writes one JSON object per line::

    {"time": "2026-01-01T08:05:00.123+00:00", "level": "info", "namespace": "smsgw.app",
     "text": "store opened: ...", "report": "..."}

``text`` is the formatted message; the event's own fields that are plain
values (strings, numbers, booleans, None) follow, so a log pipeline can filter
on ``login`` or ``link`` without parsing text; a failure adds ``traceback``.
Under twistd, ``twistd --logger smsgw.app.logs.json_stdout -n smsgw`` does the same.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import IO, Any

from twisted.logger import (
    FileLogObserver,
    FilteringLogObserver,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    formatEvent,
    textFileLogObserver,
)

FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warn", "error", "critical")
_PLAIN = (str, int, float, bool, type(None))


def event_as_json(event: dict[str, Any]) -> str:
    """One log event as one line of JSON (see the module docstring)."""
    when = datetime.fromtimestamp(event.get("log_time") or 0.0, timezone.utc)
    level = event.get("log_level")
    record: dict[str, Any] = {
        "time": when.isoformat(timespec="milliseconds"),
        "level": level.name if level is not None else "info",
        "namespace": event.get("log_namespace", ""),
        "text": formatEvent(event),
    }
    for key, value in event.items():
        if not key.startswith("log_") and key not in record and isinstance(value, _PLAIN):
            record[key] = value
    failure = event.get("log_failure")
    if failure is not None:
        record["traceback"] = failure.getTraceback()
    return json.dumps(record, ensure_ascii=False, default=repr) + "\n"


def observer(log_format: str = "text", level: str = "info", stream: IO[str] | None = None) -> ILogObserver:
    """An observer writing ``log_format`` (text or json) to ``stream`` (stderr), events at ``level`` and above."""
    if log_format not in FORMATS:
        raise ValueError(f"log format is one of {', '.join(FORMATS)}, not {log_format!r}")
    if level not in LEVELS:
        raise ValueError(f"log level is one of {', '.join(LEVELS)}, not {level!r}")
    out = stream if stream is not None else sys.stderr
    base = FileLogObserver(out, event_as_json) if log_format == "json" else textFileLogObserver(out)
    return FilteringLogObserver(base, [LogLevelFilterPredicate(LogLevel.levelWithName(level))])


def json_stdout() -> ILogObserver:
    """For ``twistd --logger smsgw.app.logs.json_stdout``: JSON lines on standard output."""
    return observer("json", "info", sys.stdout)
