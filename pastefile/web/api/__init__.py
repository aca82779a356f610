"""The REST API, version 1, at ``/api/v1`` (docs/api.md); one module per resource.

Its rules: nouns in URIs, 201 + Location, 204 on DELETE, 405 with
Allow, 406 for an Accept we cannot produce, 410 for gone, Link pagination
with X-Total-Count, ETag/Last-Modified with 304, If-Match on PATCH (428/412),
429 with X-RateLimit-* headers, and bodies that are never wrapped.
Shared behaviour: blueprints.py; the blueprints are registered by
pastefile/web/app.py.
"""
