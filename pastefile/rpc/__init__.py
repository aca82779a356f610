"""The Thrift RPC adapter (the PasteFile IDL) over the service layer.

The IDL is loaded in ``pastefile.rpc.schema``, not here, so that the
``pastefile`` command does not pay for thriftpy2 unless it serves RPC.
"""

from __future__ import annotations

DEFAULT_PORT = 8200
