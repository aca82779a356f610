"""The image pipeline: on-the-fly transforms by URL, cached, bounded and signed.

- ``params``: parse and normalise ``w``, ``h``, ``fit``, ``fmt``, ``q``.
- ``engine`` / ``vips``: the engine interface and its libvips implementation.
- ``variants``: derived images cached as blobs, LRU-capped per source.
- ``signing``: the size allowlist or HMAC-signed URLs.
- ``exif`` / ``gps``: the EXIF summary shown on the card, and GPS stripping.
- ``service``: ``ImageService``, what the adapters call.
"""
