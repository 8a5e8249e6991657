"""How an exception raised by user code is reported to the host: its
summary line, then its traceback, without the SDK's own frames."""

from __future__ import annotations

import os
import re
import traceback
from typing import Optional

_SDK_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# componentize-py mounts each directory of the Python path as /0, /1, ...
_MOUNT = re.compile(r"^/\d+/")


def _user_frames(stack: traceback.StackSummary) -> traceback.StackSummary:
    frames = [
        traceback.FrameSummary(_MOUNT.sub("", f.filename), f.lineno, f.name, lookup_line=False, line=f.line)
        for f in stack
        if not f.filename.startswith(_SDK_DIR) and "weft_component_entry" not in f.filename
    ]
    return traceback.StackSummary.from_list(frames)


def _clean(tb: Optional[traceback.TracebackException]) -> None:
    seen = set()
    while tb is not None and id(tb) not in seen:
        seen.add(id(tb))
        tb.stack = _user_frames(tb.stack)
        _clean(tb.__cause__)
        tb = tb.__context__


def describe(error: BaseException) -> str:
    """``"ValueError: boom"`` followed by the traceback of the user's code,
    as the message of the failed run."""
    summary = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    try:
        tb = traceback.TracebackException.from_exception(error)
        _clean(tb)
        if not tb.stack and tb.__cause__ is None and tb.__context__ is None:
            return summary
        trace = "".join(tb.format())
    except Exception:  # noqa: BLE001 - a broken __str__ must not hide the error
        return summary
    return f"{summary}\n{trace}".rstrip()
