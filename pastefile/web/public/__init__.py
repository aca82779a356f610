"""The public contract: the routes curl, ShareX and forum embeds use.

``/`` and ``PUT /<name>`` upload (upload.py); ``/i/``, ``/d/`` and posters send
bytes (files.py); ``/p/`` is the preview and its card (preview.py); ``/s/`` a
short link (short.py); ``/r/`` a resized copy (resize.py).
"""
