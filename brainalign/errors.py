"""The one error hierarchy of brainalign.

Every error a user can cause raises a subclass of :class:`BrainalignError`. The CLI prints
``error: <message>`` and, when present, ``hint: <hint>`` on one line each and exits with code 2.
Anything else is a bug (exit 1, with traceback).
"""

from __future__ import annotations


class BrainalignError(Exception):
    """A user-facing error: a one-line message and an optional hint saying what to do next."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} (hint: {self.hint})"


class InputError(BrainalignError):
    """A bad option, argument or combination of them."""


class DataError(BrainalignError):
    """Data whose content is wrong: NaNs, mismatched stimulus ids, shapes, missing coordinates."""


class FileFormatError(BrainalignError):
    """A file that is missing, unreadable, truncated or not in the expected format."""


class ChecksumError(FileFormatError):
    """A file whose checksum differs from the expected one."""


class ModelError(BrainalignError):
    """An unknown model, a missing layer, or a checkpoint that does not fit the model."""


class OutputExistsError(InputError):
    """An output file exists and ``overwrite`` was not requested."""


class StorageError(BrainalignError):
    """A folder that cannot take what brainalign writes: a full disk, a quota, a read-only file
    system or missing permission. Nothing partial is left behind."""
