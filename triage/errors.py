"""The one exception root of triage and its tree.

Every error a user can meet is a ``TriageError`` whose message is one line that
says what went wrong and what to do. The command line prints that line and exits
non-zero; nothing else reaches the user as a traceback.

    TriageError
    ├── ConfigError            the configuration file or environment is wrong
    ├── SecretError            a password could not be obtained
    ├── MailboxError           the mailbox cannot be read or written
    │   ├── MailboxAuthError   the server refused the login (never retried)
    │   ├── MissingFolderError a configured folder is not in the mailbox
    │   └── MailboxConnectionError  the server cannot be reached (retried)
    └── StoreError             the state database cannot be opened or written
"""

from __future__ import annotations


class TriageError(Exception):
    """Root of every error triage raises on purpose."""


class ConfigError(TriageError):
    """The configuration is wrong; the message names the key and what is expected."""


class SecretError(TriageError):
    """A password could not be read from the environment or the password command."""


class MailboxError(TriageError):
    """The mailbox cannot be read or written."""


class MailboxAuthError(MailboxError):
    """The server refused the credentials; retrying will not help."""


class MissingFolderError(MailboxError):
    """A folder the configuration names is not in the mailbox (often a typo in
    [folders]): a configuration mistake, with the configuration's exit status."""


class MailboxConnectionError(MailboxError):
    """The server could not be reached or dropped the connection; worth retrying."""


class StoreError(TriageError):
    """The state database cannot be opened, migrated or written."""


class UsageError(TriageError):
    """A command line that argparse accepts but that makes no sense (exit status 2)."""
