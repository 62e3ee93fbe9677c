"""The merged OpenAPI document of every service, served at /api/v1/openapi.json.

Each service serves its own document (spec-first, at ``/openapi.json``); the
gateway fetches them, keeps the paths it routes to that service, and merges
components. A schema name used by two services for different shapes is
prefixed with the service name, and its references rewritten.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx

from clikopro_gateway.access import is_public
from clikopro_gateway.routes import owner_of

log = logging.getLogger(__name__)

CACHE_SECONDS = 30.0
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "The `access_token` from `POST /api/v1/auth/token` (sign up first at "
    "`POST /api/v1/auth/register`). It lasts 15 minutes; `POST /api/v1/auth/refresh` gives a new one.",
}


EDGE_PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": "string"},
    },
}
#: What the gateway itself, or the chassis of every service, may answer to any operation, by when.
ALWAYS = {
    "429": "`rate_limited`: too many requests from this address or account (see `Retry-After`)",
    "502": "`bad_gateway`: the service answered something that is not HTTP",
    "503": "`service_unavailable`: the service is down or starting (see `Retry-After`)",
    "504": "`gateway_timeout`: the service did not answer in time",
}
SIGNED_IN = {
    "401": "`unauthenticated`: no access token, or an expired, forged or revoked one",
    "403": "`account_suspended`, or `forbidden`/`plan_required` (with `feature`)",
}
WITH_INPUT = {
    "400": "`validation_error` (every field's error in `errors`) or `malformed_body`",
    "422": "`validation_error`: well-formed values that cannot be used (a cursor this API did not give...)",
}
WITH_BODY = {"413": "`payload_too_large`: the body exceeds the limit"}


def _edge_responses(operation: dict[str, Any], signed_in: bool, path_parameters: bool) -> None:
    """Document the refusals that come from the gateway or the chassis rather than the service's
    own rules, where the service's document does not already say them."""
    statuses = dict(ALWAYS)
    if signed_in:
        statuses |= SIGNED_IN
    if path_parameters or operation.get("parameters") or operation.get("requestBody"):
        statuses |= WITH_INPUT
    if operation.get("requestBody"):
        statuses |= WITH_BODY
    responses = operation.setdefault("responses", {})
    for status, description in sorted(statuses.items()):
        responses.setdefault(
            status,
            {
                "description": description,
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/EdgeProblem"}}
                },
            },
        )


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/"):
                section, _, name = value[len("#/components/") :].partition("/")
                value = f"#/components/{section}/{renames.get(f'{section}/{name}', name)}"
            out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "CLIKOPRO API",
            "version": "1.0",
            "description": "The public API of CLIKOPRO, through its gateway. "
            "Errors are application/problem+json with a stable `code`.",
        },
        "servers": [{"url": "/"}],
        "paths": {},
        "components": {},
        "tags": [],
    }
    for service in sorted(documents):
        doc = documents[service]
        renames: dict[str, str] = {}
        for section, entries in (doc.get("components") or {}).items():
            target = merged["components"].setdefault(section, {})
            for name, definition in entries.items():
                if name in target and target[name] != definition:
                    renames[f"{section}/{name}"] = f"{service.replace('-', '_')}_{name}"
        doc = _rewrite_refs(doc, renames)
        for section, entries in (doc.get("components") or {}).items():
            target = merged["components"].setdefault(section, {})
            for name, definition in entries.items():
                target[renames.get(f"{section}/{name}", name)] = definition
        for path, item in (doc.get("paths") or {}).items():
            if owner_of(path) == service:
                merged["paths"][path] = item
        known = {t["name"] for t in merged["tags"]}
        merged["tags"] += [t for t in doc.get("tags", []) if t["name"] not in known]
    merged["components"]["securitySchemes"] = {"bearerAuth": BEARER_SCHEME}
    merged["components"].setdefault("schemas", {})["EdgeProblem"] = EDGE_PROBLEM_SCHEMA
    for path, item in merged["paths"].items():
        concrete = path.replace("{", "").replace("}", "")  # a template segment matches like an id
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                public = is_public(method.upper(), concrete)
                operation["security"] = [] if public else [{"bearerAuth": []}]
                _edge_responses(operation, signed_in=not public, path_parameters=bool(item.get("parameters")))
    used_tags = {t for item in merged["paths"].values() for op in item.values() if isinstance(op, dict)
                 for t in op.get("tags", [])}  # fmt: skip
    merged["tags"] = [t for t in merged["tags"] if t["name"] in used_tags]
    return merged


class MergedSpec:
    def __init__(self, client: httpx.AsyncClient, upstreams: dict[str, str]) -> None:
        self.client = client
        self.upstreams = upstreams
        self._cached: bytes | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self, service: str, url: str) -> tuple[str, dict[str, Any] | None]:
        try:
            response = await self.client.get(f"{url}/openapi.json", timeout=3.0)
            response.raise_for_status()
            return service, response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("no OpenAPI document from %s: %s", service, exc)
            return service, None

    async def document(self) -> bytes:
        async with self._lock:
            if self._cached is not None and time.monotonic() - self._at < CACHE_SECONDS:
                return self._cached
            results = await asyncio.gather(*(self._fetch(s, u) for s, u in self.upstreams.items()))
            documents = {s: d for s, d in results if d is not None}
            body = json.dumps(merge(documents)).encode()
            if len(documents) == len(self.upstreams):
                self._cached, self._at = body, time.monotonic()  # cache only a complete document
            return body
