"""Logs: one JSON object per line in production, each with the request id."""

from __future__ import annotations

import json
import logging

from tally.logs import JsonFormatter, _RequestIdFilter, request_id_var


def test_a_json_line_carries_the_request_id_and_extras() -> None:
    record = logging.LogRecord("tally.access", logging.INFO, __file__, 1, "POST %s %s", ("/graphql", 200), None)
    record.status = 200
    token = request_id_var.set("req-12345678")
    try:
        _RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "POST /graphql 200"
    assert entry["request_id"] == "req-12345678"
    assert entry["status"] == 200 and entry["level"] == "INFO"
