"""Logs a machine can read: one JSON object per line (ENTREPOT_LOG_FORMAT=json), each carrying the id of
the request it was written for, so a line in the logs, the answer a client got (its `X-Request-Id`) and
the work done for it can be put together.

What goes into a log line is the message and its arguments as the code wrote them: the code never logs a
request's body, a header or a key (the engines hide statements' parameters too: platform.db), and the
tests check that a key made, used and revoked appears in no log line.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from typing import Any

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("entrepot_request_id", default=None)
# A client's own id is kept when it is a plain token (so it cannot forge log lines or headers)
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_for(client_value: str | None) -> str:
    """The client's `X-Request-Id` when it is a plain token, else a new one."""
    if client_value and CLIENT_REQUEST_ID.match(client_value):
        return client_value
    return uuid.uuid4().hex


def bind_request_id(value: str) -> contextvars.Token[str | None]:
    return _request_id.set(value)


def unbind_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


def current_request_id() -> str | None:
    """The id of the request being served in this context (threads of the pool inherit it), if any."""
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, the request's id, the exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def uvicorn_log_config(json_lines: bool, level: str = "WARNING") -> dict[str, Any]:
    """The logging configuration `entrepot serve` hands uvicorn: Entrepot's and uvicorn's loggers to
    standard error, as JSON lines or as text."""
    formatter = (
        {"()": f"{__name__}.JsonFormatter"}
        if json_lines
        else {"format": "%(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "entrepot": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }
