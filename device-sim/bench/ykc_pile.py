"""A tiny YKC pile in the Python standard library, for the command round-trip loop of the `latency` bench.

It logs in (0x01 → 0x02), then answers every 0x34 remote start with a successful 0x33 echoing the sequence bytes,
and heartbeats (0x03) so the gateway keeps it online. It runs in a thread on a real socket; wire layout as in
shared/protocols/ykc.md (68 | len | seq(2) enc type body | CRC-16/MODBUS little-endian over seq..body).
"""

import socket
import threading
import time


def crc16_modbus(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame(seq, frame_type, body):
    inner = bytes(seq) + b"\x00" + bytes([frame_type]) + body
    crc = crc16_modbus(inner)
    return bytes([0x68, len(inner)]) + inner + bytes([crc & 0xFF, crc >> 8])


def bcd(digits):
    return bytes.fromhex(digits)


class Pile:
    """One pile on one connection; `start()` runs it in a daemon thread until `close()`."""

    def __init__(self, host, port, pile="32010299000001"):
        self.pile = bcd(pile)
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.seq = 0
        self.buf = b""
        self.answered = 0
        self.closed = False
        self.lock = threading.Lock()

    def send(self, frame_type, body, seq=None):
        if seq is None:
            seq = self.seq.to_bytes(2, "little")
            self.seq = (self.seq + 1) & 0xFFFF
        with self.lock:
            self.sock.sendall(frame(seq, frame_type, body))

    def recv_frame(self):
        """The next whole frame as (seq, type, body), or None when the socket closed."""
        while True:
            start = self.buf.find(b"\x68")
            if start > 0:
                self.buf = self.buf[start:]
            if len(self.buf) >= 2 and len(self.buf) >= self.buf[1] + 4:
                n = self.buf[1]
                raw, self.buf = self.buf[:n + 4], self.buf[n + 4:]
                return raw[2:4], raw[5], raw[6:2 + n]
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buf += chunk

    def login(self):
        body = self.pile + bytes([0x00, 1, 0x10]) + b"PYPILE\x00\x00" + bytes([1]) + bytes(10) + bytes([0])
        self.send(0x01, body)
        reply = self.recv_frame()
        if reply is None or reply[1] != 0x02 or reply[2][7] != 0x00:
            raise RuntimeError(f"login not accepted: {reply}")

    def _run(self):
        self.sock.settimeout(None)
        while not self.closed:
            try:
                f = self.recv_frame()
            except OSError:
                return
            if f is None:
                return
            seq, frame_type, body = f
            if frame_type == 0x34 and len(body) >= 24:
                # serial(16) pile(7) gun(1) → result success, no failure reason
                self.send(0x33, body[:24] + bytes([0x01, 0x00]), seq=seq)
                self.answered += 1

    def _beat(self):
        while not self.closed:
            time.sleep(5)
            try:
                self.send(0x03, self.pile + bytes([0x01, 0x00]))
            except OSError:
                return

    def start(self):
        self.login()
        threading.Thread(target=self._run, daemon=True).start()
        threading.Thread(target=self._beat, daemon=True).start()
        return self

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    @property
    def charger_id(self):
        return self.pile.hex()
