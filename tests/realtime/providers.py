"""A local stand-in for the Resend and Twilio APIs: records requests, answers from a script."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)


class FakeProviderApi:
    """Answers each request with the next scripted status (200 once the script runs out)."""

    def __init__(self, *statuses: int) -> None:
        self.script: deque[int] = deque(statuses)
        self.received: list[Received] = []
        self.app = Starlette(
            routes=[
                Route("/emails", self._email, methods=["POST"]),
                Route("/2010-04-01/Accounts/{sid}/Messages.json", self._sms, methods=["POST"]),
            ]
        )

    def _status(self) -> int:
        return self.script.popleft() if self.script else 200

    async def _email(self, request: Request) -> JSONResponse:
        self.received.append(Received(request.url.path, dict(request.headers), json=await request.json()))
        status = self._status()
        if status != 200:
            return JSONResponse({"name": "error", "message": f"scripted {status}"}, status)
        return JSONResponse({"id": f"email-{len(self.received)}"})

    async def _sms(self, request: Request) -> JSONResponse:
        # Parsed by hand: Starlette's form parser needs python-multipart, which Tally does not use.
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
        self.received.append(Received(request.url.path, dict(request.headers), form=form))
        status = self._status()
        if status != 200:
            return JSONResponse({"code": 21211, "message": f"scripted {status}"}, status)
        return JSONResponse({"sid": f"SM{len(self.received)}"}, 201)
