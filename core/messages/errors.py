"""The one failure of a delivery. Its message never holds the message's text, code or link."""


class DeliveryError(Exception):
    def __init__(self, reason: str, *, temporary: bool):
        super().__init__(reason)
        self.temporary = temporary  # True: another attempt may succeed (timeouts, 5xx, 429, SMTP hiccups)
