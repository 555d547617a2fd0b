"""The actors and their pure decisions; the runtime that runs them is ``actors.runtime``.

Nothing is imported here, so importing a decision module (``actors.media_request.state``)
loads no Trio.
"""
