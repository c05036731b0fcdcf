"""The API's local HTTP server: chalice local's request handler behind a threading server,
answering what API Gateway answers before the app is reached in the app's error envelope
(``{"error": {"code", "message", "details"}}``, JSON) instead of chalice local's 403
"Missing Authentication Token" and http.server's HTML pages:

* unknown path -> 404 ``not_found``;
* a method the path does not have -> 405 ``method_not_allowed`` with ``Allow``;
* a request target longer than ``MAX_URI_CHARS`` -> 414 ``uri_too_long``;
* a malformed request, oversized headers, an unknown method -> 400/431/501 in the envelope.

It also answers ``GET /cdn/<key>``, the local stand-in for the media CDN (tools/local/cdn.py).

In the cloud, infra/resources.json gives API Gateway the same envelope through gateway
responses; API Gateway has no 405 or 414 response type (see the comment there). The listen
backlog takes bursts of new connections (the socketserver default of 5 reset 10-25 of 50
simultaneous connects); a client that hangs up mid-response is one log line.
"""

from __future__ import annotations

import functools
import json
import sys
import uuid
from http import HTTPStatus
from typing import Any

from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalGatewayException,
    RouteMatcher,
    ThreadedHTTPServer,
)

from chalicelib.errors import error_body
from tools.local import cdn
from tools.local.worker import log

# API Gateway's quota on a URL's length for an edge-optimized API (chalice deploys that type).
MAX_URI_CHARS = 8192
LISTEN_BACKLOG = 128  # capped by the kernel's net.core.somaxconn

_PROTOCOL_ERRORS = {
    HTTPStatus.BAD_REQUEST: ("bad_request", "The request is malformed."),
    HTTPStatus.REQUEST_URI_TOO_LONG: ("uri_too_long", f"The request URI is longer than {MAX_URI_CHARS} characters."),
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: ("headers_too_large", "The request headers are too large."),
    HTTPStatus.NOT_IMPLEMENTED: ("not_implemented", "The request method is not supported."),
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: ("http_version_not_supported", "The HTTP version is not supported."),
}


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


class GatewayRequestHandler(ChaliceRequestHandler):
    # Without TCP_NODELAY, kept-alive requests wait ~40 ms on delayed ACKs (53 ms -> 8 ms measured).
    disable_nagle_algorithm = True
    server: GatewayServer

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if len(self.path) > MAX_URI_CHARS:  # longer than 64 KiB: http.server answers 414 itself
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (malformed request line, headers, unknown method), in
        the envelope; always closes the connection, as http.server does."""
        status = HTTPStatus(code)
        error_code, text = _PROTOCOL_ERRORS.get(status, (status.phrase.lower().replace(" ", "_"),
                                                          f"{status.phrase}."))
        details = {"maxLength": MAX_URI_CHARS} if status == HTTPStatus.REQUEST_URI_TOO_LONG else {}
        self.log_error("code %d, message %s", code, message or status.phrase)
        self._send_envelope(status, error_code, text, details, close=True)

    def _send_envelope(self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
                       headers: dict[str, str] | None = None, close: bool = False) -> None:
        body = json.dumps(error_body(code, message, details, request_id=str(uuid.uuid4()))).encode()
        self.send_response(status)
        if close:
            self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _generic_handle(self) -> None:
        """chalice's ``_generic_handle``, after API Gateway's routing: 404 and 405 here."""
        headers, body = self._parse_payload()  # read first: the connection stays usable
        if cdn.handles(self.path):
            self._send_cdn()
            return
        try:
            route = self.server.routes.match_route(self.path).route
        except ValueError:
            self._send_envelope(HTTPStatus.NOT_FOUND, "not_found", "No route matches this path.")
            return
        methods = sorted(self.server.app.routes[route])
        if self.command not in methods and self.command != "OPTIONS":  # OPTIONS: CORS preflight
            self._send_envelope(
                HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed",
                f"The {self.command} method is not allowed on this path; use {_either(methods)}.",
                {"allowed": methods}, {"Allow": ", ".join(methods)})
            return
        try:
            response = self.local_gateway.handle_request(method=self.command, path=self.path, headers=headers,
                                                         body=body)
            response_headers = response["headers"].copy()
            response_headers.update(response["multiValueHeaders"])
            response = self._handle_binary(response)
            self._send_http_response(response["statusCode"], response_headers, response["body"])
        except LocalGatewayException as error:
            self._send_error_response(error)

    def _send_cdn(self) -> None:
        """The media CDN's local stand-in (tools/local/cdn.py): images stream from the local S3."""
        answer = cdn.lookup(self.path, method=self.command, if_none_match=self.headers.get("If-None-Match"))
        if answer.status >= 400:
            code = "not_found" if answer.status == HTTPStatus.NOT_FOUND else "method_not_allowed"
            self._send_envelope(answer.status, code, answer.message, headers=answer.headers)
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        for chunk in answer.chunks:
            self.wfile.write(chunk)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle


class GatewayServer(ThreadedHTTPServer):
    """chalice local's threading server (daemon threads), with a listen backlog for bursts."""

    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], handler: Any, app: Any):
        self.app = app
        self.routes = RouteMatcher(list(app.routes))
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-response (a browser, a timed-out curl) is one log line,
        not socketserver's traceback; anything else keeps the default report."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log(f"[http] client {client_address[0]}:{client_address[1]} disconnected: {type(error).__name__}")
        else:
            super().handle_error(request, client_address)


def create_server(app: Any, config: Any, host: str, port: int) -> GatewayServer:
    """Bound and listening; ``serve_forever`` it in a thread."""
    # What chalice.local.create_local_server does: the app's current_request becomes per thread.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    handler = functools.partial(GatewayRequestHandler, app_object=app, config=config)
    return GatewayServer((host, port), handler, app)
