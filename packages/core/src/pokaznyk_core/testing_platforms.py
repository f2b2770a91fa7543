"""Local fakes of the platform APIs, in their documented request and response formats.

`FakeTelegram` (Bot API, with getFile and file downloads), `FakeViber` (REST Bot API),
`FakeGraph` (Messenger Send API) and `FakeMediaHost` (the CDN that serves the pictures a
Viber or Messenger callback links to) each listen on 127.0.0.1 on a free port, in the
running event loop (`async with`) or in a thread of their own (`with
fake.running_in_thread()`, for code that runs its own loop such as the CLI). They record
every request and can be told to answer the next calls with a server error (`fail_next`)
or with the platform's flood-control answer (`throttle_next`), or to keep a call waiting
for its answer (`hold_next`: a slow or hanging platform); `received` waits until the
requests received satisfy a condition.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "FakeGraph",
    "FakeMediaHost",
    "FakePlatform",
    "FakeTelegram",
    "FakeViber",
    "RawBody",
    "RecordedRequest",
]


@dataclass(frozen=True)
class RawBody:
    """A response body sent as it is (a file download), not as JSON."""

    content: bytes
    content_type: str = "application/octet-stream"
    chunked: bool = False
    """Sent with `Transfer-Encoding: chunked`, so no length is said before the end."""


Answer = tuple[int, dict[str, Any] | RawBody]
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
_CHUNK = 64 * 1024
_BOT_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""The largest file the Bot API lets a bot download."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (form or query fields as a dict when it is not JSON)."""
        if self.headers.get("content-type", "").startswith("application/json"):
            return json.loads(self.body)
        fields = dict(parse_qsl(self.body.decode())) if self.body else {}
        return {**self.query, **fields}


@dataclass
class FakePlatform:
    """An HTTP/1.1 server on 127.0.0.1 answering like a platform API (subclasses say how)."""

    requests: list[RecordedRequest] = field(default_factory=list)
    _failures: list[Answer] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _port: int = 0
    _holds: list[tuple[Callable[[RecordedRequest], bool], asyncio.Event]] = field(
        default_factory=list
    )
    _held: list[asyncio.Event] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port> of the running server."""
        return f"http://127.0.0.1:{self._port}"

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer the next `count` API calls with an HTTP server error."""
        self._failures.extend([(status, {"error": "injected failure"})] * count)

    def answer_next(self, answer: Answer, count: int = 1) -> None:
        """Answer the next `count` API calls with `answer` (a refusal in the platform's
        own format, say)."""
        self._failures.extend([answer] * count)

    def throttle_next(self, count: int = 1, retry_after: int = 3) -> None:
        """Answer the next `count` API calls with the platform's too-many-requests answer."""
        self._failures.extend([self.throttled(retry_after)] * count)

    def throttled(self, retry_after: int) -> Answer:
        """The platform's flood-control answer."""
        return 429, {"error": "too many requests", "retry_after": retry_after}

    def hold_next(self, match: Callable[[RecordedRequest], bool]) -> asyncio.Event:
        """Keep the answer to the next request that `match` accepts until the returned
        event is set (a platform call that is slow or hangs). The request is recorded
        when it arrives; the fake's other connections are answered meanwhile."""
        release = asyncio.Event()
        self._holds.append((match, release))
        return release

    async def received(self, condition: Callable[[list[RecordedRequest]], bool]) -> None:
        """Return once `condition` holds of the requests received so far (looked at again
        as each request arrives)."""
        while not condition(self.requests):
            self._arrived.clear()
            await self._arrived.wait()

    def calls(self, suffix: str) -> list[RecordedRequest]:
        """Recorded requests whose path ends with `suffix` (e.g. "/sendMessage")."""
        return [r for r in self.requests if r.path.endswith(suffix)]

    def answer(self, request: RecordedRequest) -> Answer:
        """The platform's answer to one request (implemented by each platform)."""
        raise NotImplementedError

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1 in the running loop."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close the connections."""
        for release in self._held:  # a held call is answered as the server goes
            release.set()
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakePlatform:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @contextmanager
    def running_in_thread(self) -> Iterator[FakePlatform]:
        """Serve from a thread with its own event loop (for code that runs `asyncio.run`)."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        ready.wait(10)
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request = await self._read(reader)
                if request is None:
                    break
                self.requests.append(request)
                self._arrived.set()
                await self._hold(request)
                status, body = self._failures.pop(0) if self._failures else self.answer(request)
                await self._respond(writer, status, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _hold(self, request: RecordedRequest) -> None:
        for held in self._holds:
            match, release = held
            if match(request):
                self._holds.remove(held)
                self._held.append(release)
                await release.wait()
                return

    @staticmethod
    async def _respond(
        writer: asyncio.StreamWriter, status: int, body: dict[str, Any] | RawBody
    ) -> None:
        raw = body if isinstance(body, RawBody) else None
        data = raw.content if raw else json.dumps(body, ensure_ascii=False).encode()
        content_type = raw.content_type if raw else "application/json"
        head = f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
        head += f"Content-Type: {content_type}\r\n"
        if raw is None or not raw.chunked:
            writer.write(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
            await writer.drain()
            return
        writer.write(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
        for start in range(0, len(data), _CHUNK):
            chunk = data[start : start + _CHUNK]
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> RecordedRequest | None:
        line = await reader.readline()
        if not line.strip():
            return None
        method, target, _version = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        parts = urlsplit(target)
        return RecordedRequest(method, parts.path, dict(parse_qsl(parts.query)), headers, body)


@dataclass
class FakeTelegram(FakePlatform):
    """The Bot API: `POST /bot<token>/<method>`; `url` is the API base (no /bot<token>)."""

    token: str = "123456:TEST"
    updates: list[dict[str, Any]] = field(default_factory=list)
    """Updates not confirmed yet (a getUpdates with a higher offset confirms them)."""
    webhook: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """The command menus set with setMyCommands, by language_code ("" for everyone)."""
    refusal: tuple[int, str] | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    """Files the bot may download, by file_id (`add_file`)."""
    _message_id: int = 0
    _file_paths: dict[str, str] = field(default_factory=dict)

    def add_file(self, file_id: str, content: bytes, file_path: str = "") -> None:
        """Make `content` downloadable as `file_id` (getFile, then /file/bot<token>/<path>)."""
        self.files[file_id] = content
        self._file_paths[file_id] = file_path or f"photos/file_{len(self._file_paths)}.jpg"

    def throttled(self, retry_after: int) -> Answer:
        """Flood control, as the Bot API answers it."""
        return 429, {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer the next `count` calls with an error in the Bot API's shape."""
        body = {"ok": False, "error_code": status, "description": "Internal Server Error"}
        self._failures.extend([(status, body)] * count)

    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of the sendMessage calls, in order."""
        return [r.json() for r in self.calls("/sendMessage")]

    def answer(self, request: RecordedRequest) -> Answer:
        """The Bot API's answer."""
        prefix, _, method = request.path.lstrip("/").partition("/")
        if prefix == "file":
            return self._download(method)
        if prefix != f"bot{self.token}":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if self.refusal is not None:
            return self.refusal[0], {
                "ok": False,
                "error_code": self.refusal[0],
                "description": self.refusal[1],
            }
        params = request.json()
        method = method.lower()
        if method == "sendmessage":
            if "chat_id" not in params or not params.get("text"):
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message text is empty",
                }
            if len(str(params["text"]).encode("utf-16-le")) // 2 > 4096:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message is too long",
                }
            self._message_id += 1
            chat = {"id": params["chat_id"], "type": "private"}
            message = {
                "message_id": self._message_id,
                "date": 0,
                "chat": chat,
                "text": params["text"],
            }
            return 200, {"ok": True, "result": message}
        if method == "setwebhook":
            self.webhook = params
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        if method == "setmycommands":
            commands = params.get("commands")
            valid = isinstance(commands, list) and all(
                re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", "")))
                and 1 <= len(str(c.get("description", ""))) <= 256
                for c in commands
            )
            if not valid or len(commands) > 100:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: BOT_COMMAND_INVALID",
                }
            self.commands[params.get("language_code", "")] = commands
            return 200, {"ok": True, "result": True}
        if method == "getupdates":
            offset = int(params.get("offset", 0))
            if offset > 0:  # the updates before it are confirmed: Telegram forgets them
                self.updates[:] = [u for u in self.updates if u["update_id"] >= offset]
            limit = int(params.get("limit", 100))
            return 200, {"ok": True, "result": self.updates[:limit]}
        if method in ("answercallbackquery", "deletewebhook"):
            return 200, {"ok": True, "result": True}
        if method == "getme":
            return 200, {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Pokaznyk"}}
        if method == "getfile":
            return self._get_file(str(params.get("file_id", "")))
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _get_file(self, file_id: str) -> Answer:
        """getFile: the File object whose `file_path` the download URL ends with; a bot may
        download files of at most 20 MB."""
        if file_id not in self.files:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: invalid file_id",
            }
        size = len(self.files[file_id])
        if size > _BOT_DOWNLOAD_LIMIT:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: file is too big",
            }
        result = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}"[:32],
            "file_size": size,
            "file_path": self._file_paths[file_id],
        }
        return 200, {"ok": True, "result": result}

    def _download(self, rest: str) -> Answer:
        """`GET /file/bot<token>/<file_path>`: the file's bytes."""
        prefix, _, file_path = rest.partition("/")
        found = [i for i, p in self._file_paths.items() if p == file_path]
        if prefix != f"bot{self.token}" or not found:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        return 200, RawBody(self.files[found[0]], "image/jpeg")


@dataclass
class FakeViber(FakePlatform):
    """The Viber REST API; `api_base` is the base with its path (`…/pa`)."""

    auth_token: str = "viber-test-token"
    webhook: dict[str, Any] = field(default_factory=dict)
    _token: int = 5_000_000_000_000_000_000

    @property
    def api_base(self) -> str:
        """What POKAZNYK_VIBER_API_BASE should be."""
        return f"{self.url}/pa"

    def throttled(self, retry_after: int) -> Answer:
        """Viber answers HTTP 200 with status 12 (tooManyRequests)."""
        return 200, {"status": 12, "status_message": "tooManyRequests"}

    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of the send_message calls, in order."""
        return [r.json() for r in self.calls("/send_message")]

    def answer(self, request: RecordedRequest) -> Answer:
        """HTTP 200 always; the body's status tells."""
        if request.headers.get("x-viber-auth-token") != self.auth_token:
            return 200, {"status": 2, "status_message": "invalidAuthToken"}
        body = request.json()
        method = request.path.rsplit("/", 1)[-1]
        if method == "send_message":
            name = (body.get("sender") or {}).get("name", "")
            if not body.get("receiver") or not name or len(name) > 28:
                return 200, {"status": 3, "status_message": "badData"}
            self._token += 1
            return 200, {
                "status": 0,
                "status_message": "ok",
                "message_token": self._token,
                "chat_hostname": "SN-CHAT-01_",
            }
        if method == "set_webhook":
            if not str(body.get("url", "")).startswith("https://"):
                return 200, {"status": 1, "status_message": "invalidUrl"}
            self.webhook = body
            return 200, {
                "status": 0,
                "status_message": "ok",
                "event_types": body.get("event_types", []),
            }
        return 200, {"status": 3, "status_message": "badData"}


@dataclass
class FakeGraph(FakePlatform):
    """The Graph Send API: `POST /<version>/me/messages?access_token=…`; `url` is the base."""

    page_token: str = "page-test-token"
    profile: dict[str, Any] = field(default_factory=dict)
    """The page's Messenger Profile, as set with `POST /me/messenger_profile`."""
    _message_id: int = 0

    def throttled(self, retry_after: int) -> Answer:
        """The Send API's rate-limit error."""
        error = {
            "message": "Calls to this api have exceeded the rate limit.",
            "type": "OAuthException",
            "code": 613,
        }
        return 400, {"error": error}

    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of the Send API calls, in order."""
        return [r.json() for r in self.calls("/me/messages")]

    def answer(self, request: RecordedRequest) -> Answer:
        """A message id, or the Graph error format."""
        if request.query.get("access_token") != self.page_token:
            error = {
                "message": "Invalid OAuth access token.",
                "type": "OAuthException",
                "code": 190,
            }
            return 400, {"error": error}
        body = request.json()
        if request.path.endswith("/me/messenger_profile"):
            return self._set_profile(body)
        quick = (body.get("message") or {}).get("quick_replies", [])
        valid = (
            body.get("messaging_type") in ("RESPONSE", "UPDATE", "MESSAGE_TAG")
            and (body.get("recipient") or {}).get("id")
            and len(quick) <= 13
            and all(len(q.get("title", "")) <= 20 for q in quick)
        )
        if not request.path.endswith("/me/messages") or not valid:
            error = {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}
            return 400, {"error": error}
        if len(str((body.get("message") or {}).get("text", ""))) > 2000:
            message = "(#100) Length of param message[text] must be less than or equal to 2000"
            return 400, {"error": {"message": message, "type": "OAuthException", "code": 100}}
        self._message_id += 1
        return 200, {"recipient_id": body["recipient"]["id"], "message_id": f"m_{self._message_id}"}

    def _set_profile(self, body: dict[str, Any]) -> Answer:
        """The Messenger Profile API: a default locale for the greeting and the menu, a
        greeting of at most 160 characters, menu titles of at most 30, postbacks with a
        payload, and a Get Started button wherever there is a menu."""
        greeting = body.get("greeting", [])
        menus = body.get("persistent_menu", [])
        actions = [a for m in menus for a in m.get("call_to_actions", [])]
        valid = (
            all(1 <= len(g.get("text", "")) <= 160 for g in greeting)
            and (not greeting or any(g.get("locale") == "default" for g in greeting))
            and (not menus or any(m.get("locale") == "default" for m in menus))
            and (not menus or bool((body.get("get_started") or {}).get("payload")))
            and all(len(m.get("call_to_actions", [])) <= 20 for m in menus)
            and all(1 <= len(a.get("title", "")) <= 30 for a in actions)
            and all(a.get("type") != "postback" or a.get("payload") for a in actions)
        )
        if not valid:
            error = {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}
            return 400, {"error": error}
        self.profile.update(body)
        return 200, {"result": "success"}


@dataclass
class FakeMediaHost(FakePlatform):
    """The CDN behind a Viber `media` URL or a Messenger attachment's `payload.url`: a plain
    `GET` of the URL the callback carried answers the picture's bytes (no token); an
    unknown or expired URL answers 403, as the CDN's signed URLs do."""

    media: dict[str, RawBody] = field(default_factory=dict)
    """What each path serves (`put`)."""

    def put(
        self,
        name: str,
        content: bytes,
        content_type: str = "image/jpeg",
        *,
        chunked: bool = False,
    ) -> str:
        """Serve `content` at a new URL (with the CDN's signature in its query); returns it."""
        path = f"/media/{name}"
        self.media[path] = RawBody(content, content_type, chunked)
        return f"{self.url}{path}?oh=00_signature&oe=6790ABCD"

    def answer(self, request: RecordedRequest) -> Answer:
        """The picture's bytes, or 403 for a URL it does not serve."""
        found = self.media.get(request.path)
        if request.method != "GET" or found is None:
            return 403, {"error": "URL signature expired"}
        return 200, found
