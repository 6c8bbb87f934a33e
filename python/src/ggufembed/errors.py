"""ggufembed.Error and its subclasses: one per C status (ggufembed_status)."""


class Error(Exception):
    """A ggufembed call failed. ``status`` is the C status name (e.g. "TOO_LONG"), ``code``
    its number, and the message is the library's one-line explanation."""

    status = "INTERNAL"
    code = 9

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgumentError(Error, ValueError):
    status, code = "INVALID_ARGUMENT", 1


class FileError(Error, OSError):
    status, code = "IO", 2


class OutOfMemoryError(Error, MemoryError):
    status, code = "OUT_OF_MEMORY", 3


class FormatError(Error, ValueError):
    status, code = "FORMAT", 4


class UnsupportedError(Error):
    status, code = "UNSUPPORTED", 5


class TooLongError(Error, ValueError):
    status, code = "TOO_LONG", 6


class CancelledError(Error):
    status, code = "CANCELLED", 8


_BY_CODE = {c.code: c for c in (InvalidArgumentError, FileError, OutOfMemoryError, FormatError, UnsupportedError,
                                 TooLongError, CancelledError)}


def from_status(code: int, message: str) -> Error:
    cls = _BY_CODE.get(code, Error)
    return cls(message)
