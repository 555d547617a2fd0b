"""Quart's JSON answers (``jsonify``) written by ``status_tracker.json_text``: compact, keys in
the order built, with a final newline as Quart writes them."""

from __future__ import annotations

import typing
from typing import Any

from quart import Response
from quart.json.provider import DefaultJSONProvider

from status_tracker import json_text


@typing.final
class CompactJSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # asked for something of the standard library's (an indent, sorted keys)
            return super().dumps(obj, **kwargs)
        return json_text.dumps(obj, default=self.default).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = json_text.dumps(self._prepare_response_obj(args, kwargs), default=self.default)
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)
