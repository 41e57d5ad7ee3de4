"""Errors the workbench raises for bad input.

Every error carries a one- or two-line message naming what is wrong (snapshot, file, table,
column, row, rule) and how to fix the call. The CLI prints the message and exits non-zero.
"""


class WorkbenchError(Exception):
    """Base class for every error the workbench reports to a user."""

    exit_code: int = 2


class SnapshotError(WorkbenchError):
    """A snapshot is missing, incomplete, or does not match its manifest."""


class ContractError(WorkbenchError):
    """A snapshot or mart breaks one or more of its data contracts."""

    exit_code = 3


class ParameterError(WorkbenchError):
    """A parameter (region, date, scale, ...) is not allowed."""


class ConfigError(WorkbenchError):
    """A configuration file is missing or invalid."""


class CompPlanError(ConfigError):
    """A compensation plans file is invalid: ``<file>:<line>: <rule>``."""


class CompInputError(WorkbenchError):
    """A compensation input (credits, quotas, cancellations) breaks a rule: file, row, column."""
