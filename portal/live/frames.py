"""How the server reads a client's Socket.IO frames: python-socketio's own reading (its
`serializer` option takes a Packet class), except that every event reaches the namespace.

python-socketio takes an event's name from its first element and fails before any handler when
there is none: `42/live,1[]` (an acknowledgement id, no name), an event that is not a list
(`42/live,1{}`, `42/live,1 5`) or one with no data at all went unanswered. Here such an event
has no name (None), and the namespace refuses it as it refuses any name it does not know
(`unknown_event`, portal/live/namespace.py), with an answer. A binary event
that announces no attachments is read as the ordinary event it is, instead of waiting for an
attachment that never comes."""

from __future__ import annotations

from typing import Any

from socketio import packet


class ClientFrame(packet.Packet):
    packet_type: Any
    data: Any

    def decode(self, encoded_packet: Any) -> int:
        attachments: int = super().decode(encoded_packet)
        if self.packet_type == packet.BINARY_EVENT and not attachments:
            self.packet_type = packet.EVENT
        if self.packet_type == packet.EVENT:
            self._name()
        return attachments

    def add_attachment(self, attachment: Any) -> bool:
        complete: bool = super().add_attachment(attachment)
        if complete and self.packet_type == packet.BINARY_EVENT:
            self._name()
        return complete

    def _name(self) -> None:
        if not isinstance(self.data, list) or not self.data:
            self.data = [None]
