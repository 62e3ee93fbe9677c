"""The emulator process: ``clikopro-stripe-emulator --port 8420`` (``--port 0``: a free port).

It prints ``clikopro-stripe-emulator listening on http://127.0.0.1:<port>`` once it accepts
connections. Bound to 127.0.0.1 only (localstripe's own command line binds every interface).
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import pickle
import re
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from localstripe import resources as ls
from localstripe import server as ls_server
from localstripe.errors import UserError

from clikopro_stripe_emulator import billing, clock, connect, idempotency, payments, webhooks

log = logging.getLogger("clikopro_stripe_emulator")

#: Reachable with the publishable key (what Stripe.js and the mobile SDKs call).
PUBLISHABLE_ROUTES = [
    ("POST", re.compile(r"^/v1/payment_intents/[^/]+/confirm$")),
    ("GET", re.compile(r"^/v1/payment_intents/[^/]+$")),
    ("POST", re.compile(r"^/v1/payment_methods$")),
    ("POST", re.compile(r"^/v1/tokens$")),
    ("POST", re.compile(r"^/v1/sources$")),
    ("POST", re.compile(r"^/v1/payment_intents/[^/]+/_authenticate$")),
    ("POST", re.compile(r"^/v1/setup_intents/[^/]+/(confirm|cancel)$")),
]


@dataclass
class Config:
    secret_key: str | None = None
    publishable_key: str | None = None
    state_file: Path | None = None


_patched = False


def patch_localstripe() -> None:
    """Once per process: our clock, no disk dump on every write, our webhook delivery, PaymentIntents."""
    global _patched
    if _patched:
        return
    _patched = True
    ls.time = clock.ShiftedTime()
    ls.Store.dump_to_disk = lambda self: None
    ls.schedule_webhook = webhooks.schedule
    payments.patch()


def _api_key(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Basic":
        try:
            value = base64.b64decode(value).decode().split(":")[0]
        except (ValueError, UnicodeDecodeError):
            return None
    elif scheme != "Bearer":
        return None
    return value or None


def auth_middleware(config: Config):
    @web.middleware
    async def middleware(request: web.Request, handler):
        if request.path.startswith(("/_config/", "/_emulator/", "/js.stripe.com/")):
            return await handler(request)
        key = _api_key(request)
        if key is None and request.method == "POST":
            data = await ls_server.get_post_data(request, remove_auth=False) or {}
            key = data.get("key") if isinstance(data.get("key"), str) else None
        if key and key.startswith("sk_") and (config.secret_key is None or key == config.secret_key):
            request["api_key"] = key
            return await handler(request)
        publishable = key and key.startswith("pk_") and (config.publishable_key in (None, key))
        if publishable and any(m == request.method and p.match(request.path) for m, p in PUBLISHABLE_ROUTES):
            request["api_key"] = key
            request["publishable"] = True
            return await handler(request)
        return web.json_response(
            {"error": {"type": "invalid_request_error", "message": f"Invalid API Key provided: {key or ''}"}},
            status=401,
        )

    return middleware


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except UserError as exc:
        return idempotency.error_response(exc)
    except web.HTTPException:
        raise
    except Exception as exc:  # a bug here must look like Stripe's 500, not a dropped connection
        log.exception("emulator error on %s %s", request.method, request.path)
        return web.json_response({"error": {"type": "api_error", "message": repr(exc)}}, status=500)


def state_middleware(config: Config):
    @web.middleware
    async def middleware(request: web.Request, handler):
        try:
            return await handler(request)
        finally:
            if config.state_file and request.method in ("POST", "DELETE"):
                save_state(config.state_file)

    return middleware


def save_state(path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(dict(ls.store), f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load_state(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            saved = pickle.load(f)
    except FileNotFoundError:
        return
    except Exception as exc:  # noqa: BLE001 - a stale file from another version: start empty
        log.warning("ignoring unreadable state file %s: %s", path, exc)
        return
    dict.clear(ls.store)
    dict.update(ls.store, saved)


# -- control endpoints --------------------------------------------------------------------------


async def _json(request: web.Request) -> dict:
    data = await ls_server.get_post_data(request) or {}
    return dict(data)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "now": int(clock.now())})


async def wipe(request: web.Request) -> web.Response:
    dict.clear(ls.store)
    idempotency.clear()
    clock.reset()
    return web.json_response({"wiped": True})


async def add_webhook(request: web.Request) -> web.Response:
    data = await _json(request)
    url, secret, events = data.get("url"), data.get("secret"), data.get("events")
    connect_flag = data.get("connect", False)
    if isinstance(connect_flag, str):
        connect_flag = {"true": True, "false": False, "both": None}.get(connect_flag.lower(), False)
    if (
        not url
        or not secret
        or not str(url).startswith("http")
        or (events is not None and not isinstance(events, list))
    ):
        raise UserError(400, "Bad request: url, secret and optional events[] and connect (true|false|both)")
    webhooks.endpoints[request.match_info["id"]] = webhooks.Endpoint(url, secret, events, connect_flag)
    return web.json_response({"id": request.match_info["id"], "url": url, "connect": connect_flag})


async def remove_webhooks(request: web.Request) -> web.Response:
    if "id" in request.match_info:
        webhooks.endpoints.pop(request.match_info["id"], None)
    else:
        webhooks.clear()
    return web.json_response({"removed": True})


async def list_deliveries(request: web.Request) -> web.Response:
    return web.json_response({"data": webhooks.deliveries})


async def get_clock(request: web.Request) -> web.Response:
    return web.json_response({"now": int(clock.now())})


async def set_clock(request: web.Request) -> web.Response:
    data = await _json(request)
    try:
        now = clock.advance(float(data.get("advance_seconds", 0)))
    except ValueError as exc:
        raise UserError(400, str(exc)) from None
    return web.json_response({"now": int(now)})


CONTROL_ROUTES = [
    ("GET", "/_config/health", health),
    ("DELETE", "/_config/data", wipe),
    ("POST", "/_config/webhooks/{id}", add_webhook),
    ("DELETE", "/_config/webhooks", remove_webhooks),
    ("DELETE", "/_config/webhooks/{id}", remove_webhooks),
    ("GET", "/_config/deliveries", list_deliveries),
    ("GET", "/_config/clock", get_clock),
    ("POST", "/_config/clock", set_clock),
]


def build_app(config: Config | None = None) -> web.Application:
    config = config or Config()
    patch_localstripe()
    app = web.Application(
        middlewares=[
            error_middleware,
            auth_middleware(config),
            idempotency.middleware,
            state_middleware(config),
        ]
    )
    app.on_response_prepare.append(ls_server.add_cors_headers)
    billing.install(app)  # Billing (subscriptions): its routes first, renewals in the background
    ours = [*CONTROL_ROUTES, *connect.ROUTES, *payments.ROUTES]
    replaced = {(method, path) for method, path, _ in ours}
    for method, path, handler in ours:
        app.router.add_route(method, path, handler)
    # localstripe's own routes (its extra routes come first in its router, as they must).
    for route in ls_server.app.router.routes():
        path = route.resource.canonical
        if route.method == "HEAD" or (route.method, path) in replaced or path.startswith("/_config/"):
            continue
        app.router.add_route(route.method, path, route.handler)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="clikopro-stripe-emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420, help="0 picks a free port")
    parser.add_argument(
        "--secret-key", default=None, help="accept only this secret key (default: any sk_...)"
    )
    parser.add_argument("--publishable-key", default=None, help="accept only this publishable key")
    parser.add_argument("--webhook-delay", type=float, default=0.2, help="seconds before a webhook is sent")
    parser.add_argument("--webhook-retries", type=int, default=3)
    parser.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="URL=SECRET",
        help="an endpoint receiving platform and Connect events, signed with SECRET (repeatable)",
    )
    parser.add_argument("--state-file", type=Path, default=None, help="keep the state across restarts")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")

    config = Config(args.secret_key, args.publishable_key, args.state_file)
    app = build_app(config)
    webhooks.settings.update(delay=args.webhook_delay, retries=args.webhook_retries)
    for n, spec in enumerate(args.webhook):
        url, _, secret = spec.rpartition("=")
        if not url or not secret:
            parser.error(f"--webhook {spec!r}: expected URL=SECRET")
        webhooks.endpoints[f"cli{n}"] = webhooks.Endpoint(url, secret, None, None)
    if args.state_file:
        args.state_file.parent.mkdir(parents=True, exist_ok=True)
        load_state(args.state_file)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)  # connections wait in the backlog until the server accepts them
    host, port = sock.getsockname()[:2]

    async def announce(_app: web.Application) -> None:
        print(f"clikopro-stripe-emulator listening on http://{host}:{port}", flush=True)

    app.on_startup.append(announce)
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


if __name__ == "__main__":
    main(sys.argv[1:])
