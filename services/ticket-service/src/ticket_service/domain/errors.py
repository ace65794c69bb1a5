"""Domain errors; the HTTP layer maps each to a 4xx with its message."""


class DomainError(Exception):
    """A command that the rules refuse. The message says what to do instead."""


class TicketNotFound(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


class VersionConflict(DomainError):
    """The stream moved on since the caller read it (optimistic concurrency)."""

    def __init__(self, stream_id: object, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {actual}, not {expected}: "
            "reload it and apply your change again"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class PreconditionRequired(DomainError):
    """A change to shared configuration must name the version it was decided on (If-Match),
    so that two managers never silently overwrite each other's changes."""


class BlobTooLarge(Exception):
    """A file (attachment, branding image) over its size limit; the blob store raises it while
    the file streams in, so the caller answers 413. Not a DomainError: a limit of the store."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the file is larger than {limit_bytes // (1024 * 1024)} MB")
        self.limit_bytes = limit_bytes
