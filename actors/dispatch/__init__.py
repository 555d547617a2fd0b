"""The inbox dispatcher: routes every durable message, in order, to the actor that owns it."""
