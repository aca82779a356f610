"""Looking a file up by its integer row id: the RPC ``get(pid)``.

Row ids can be walked, which is why the public routes use random ids
instead; only the internal RPC service addresses files this way.
"""

from __future__ import annotations

from pastefile.db.models import File
from pastefile.errors import NotFound
from pastefile.services.files import FileService

# Thrift's i32: anything outside cannot be a row id of ours.
MAX_ROW_ID = 2**31 - 1


def get_by_row_id(files: FileService, row_id: int) -> File:
    if not isinstance(row_id, int) or not 0 < row_id <= MAX_ROW_ID:
        raise NotFound("no such file")
    with files.db.read() as session:
        found = session.get(File, row_id)
    if found is None:
        raise NotFound("no such file")
    return found
