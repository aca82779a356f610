"""The IDL as a module, built by thriftpy2 from ``pastefile.thrift`` at import.

Its structs, exceptions and ``PasteFileService`` are shared by the server
and the client, so there is no generated code to keep in sync.
"""

from __future__ import annotations

from pathlib import Path

import thriftpy2

IDL_PATH = Path(__file__).with_name("pastefile.thrift")

# A real module name lets the structs pickle and names them in tracebacks.
idl = thriftpy2.load(str(IDL_PATH), module_name="pastefile_thrift")
