"""The one base class of the errors tinbai explains to its user.

Every such error carries a one-line message that says what is wrong and where (a file and
line, a parameter, a warehouse); the CLI prints it and exits non-zero, flows record it in
`runs`. Anything else escaping is a defect.
"""
from __future__ import annotations


class TinbaiError(Exception):
    """A problem with the user's input or setup, said in one line."""
