"""Looking a file up by its integer row id: the RPC ``get(pid)``.

Row ids can be walked, which is why the public routes use random ids
instead; only the internal RPC service addresses files this way.
"""

from __future__ import annotations

from pastefile.db.models import File
from pastefile.errors import NotFound
from pastefile.services.files import FileService

# The integer columns' range (and Thrift's i32): anything outside cannot be a row
# id, version or counter of ours, and must never reach the database as one.
MAX_ROW_ID = 2**31 - 1


def is_row_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID


def get_by_row_id(files: FileService, row_id: int) -> File:
    if not is_row_id(row_id):
        raise NotFound("no such file")
    with files.db.read() as session:
        found = session.get(File, row_id)
    if found is None:
        raise NotFound("no such file")
    return found
