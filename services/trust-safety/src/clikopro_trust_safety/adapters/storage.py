"""Where incident attachments live: private files the service names itself (never the uploader's name),
served only through the API to the incident's parties and staff."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[0-9a-f-]{36}/[0-9a-f-]{36}\.(pdf|jpg|png)$")


class AttachmentStorage(Protocol):
    def save(self, key: str, data: bytes) -> None: ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalDirectoryStorage:
    """Files under one directory (``INCIDENT_STORAGE_DIR``), readable by the service's user only,
    written atomically (temp file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):  # keys are generated, never taken from a request
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def save(self, key: str, data: bytes) -> None:
        path = self.path_for_write(key)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def path_for_write(self, key: str) -> Path:
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
