"""Blob storage for attachments, behind an S3-shaped interface (put, get, delete by key).

The default keeps blobs in a local directory: a file is written under a temporary name and
renamed into place only once complete, so a reader never sees half a file. An S3 or MinIO
store implements the same protocol.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio

from ticket_service.domain.errors import BlobTooLarge


class BlobNotFound(LookupError):
    pass


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size_bytes: int
    sha256: str


class BlobStore(Protocol):
    async def put_object(
        self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int
    ) -> StoredBlob: ...

    def get_object(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete_object(self, key: str) -> None: ...


class LocalDirectoryBlobStore:
    def __init__(self, root: Path, chunk_size: int = 256 * 1024) -> None:
        self._root = root
        self._chunk_size = chunk_size

    def _path(self, key: str) -> Path:
        if not key or ".." in key.split("/") or key.startswith("/"):
            raise ValueError(f"invalid blob key {key!r}")
        return self._root / key

    async def put_object(
        self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int
    ) -> StoredBlob:
        path = self._path(key)
        await anyio.Path(path.parent).mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
        digest, size = hashlib.sha256(), 0
        try:
            async with await anyio.open_file(partial, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise BlobTooLarge(max_bytes)
                    digest.update(chunk)
                    await out.write(chunk)
            await anyio.to_thread.run_sync(os.replace, partial, path)
        finally:
            await anyio.Path(partial).unlink(missing_ok=True)
        return StoredBlob(key=key, size_bytes=size, sha256=digest.hexdigest())

    async def get_object(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            file = await anyio.open_file(path, "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        async with file:
            while chunk := await file.read(self._chunk_size):
                yield chunk

    async def delete_object(self, key: str) -> None:
        await anyio.Path(self._path(key)).unlink(missing_ok=True)
