#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from the codec's test vectors.

Run from the repository root: `python3 fuzz/make_seeds.py`. Seeds follow each target's input layout (see
codec/src/fuzzing.rs): `arbitrary` reads integers little-endian, a Vec as (continue-bool, element)*, an Option as a
bool then the value.
"""
import json, os, struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "codec", "tests", "data")
OUT = os.path.join(ROOT, "fuzz", "corpus")

def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)

def sizes(*xs):
    return b"".join(b"\x01" + bytes([x]) for x in xs) + b"\x00"

ykc = json.load(open(os.path.join(DATA, "ykc-vectors.json")))
stream = b""
for v in ykc:
    raw = bytes.fromhex(v["hex"])
    write("ykc_roundtrip", v["id"], raw)
    if len(raw) >= 8:
        write("ykc_body", v["id"], raw[5:6] + raw[6:-2])
    write("ykc_stream", v["id"], sizes() + raw)
    stream += raw
write("ykc_stream", "all-split", sizes(0, 6, 2, 30) + b"\x55\xaa" + stream)

PGNS = [0x2600, 0x2700, 0x0100, 0x0200, 0x0600, 0x0700, 0x0800, 0x0900, 0x0A00, 0x1000, 0x1100,
        0x1200, 0x1300, 0x1500, 0x1600, 0x1700, 0x1900, 0x1A00, 0x1C00, 0x1D00, 0x1E00, 0x1F00]

def pgn_of(can_id):
    pf = (can_id >> 16) & 0xFF
    return (pf << 8) if pf < 0xF0 else ((can_id >> 8) & 0xFFFF)

gbt = json.load(open(os.path.join(DATA, "gbt27930-vectors.json")))
candump = []
relay = b""
for v in gbt:
    frames = v.get("frames") or [{"can_id": v["can_id"], "data": v["data"]}]
    bus = struct.pack("<BHBB", 8, 1785, 0xFF, 2)
    for i, f in enumerate(frames):
        if isinstance(f, str):
            cid, dat = f.split("#")
            f = {"can_id": cid, "data": dat}
        cid = int(f["can_id"], 16)
        data = bytes.fromhex(f["data"])
        candump.append("(%d.%03d) can0 %08X#%s" % (i // 10, (i % 10) * 100, cid, data.hex().upper()))
        relay += bytes([0x80 | len(data)]) + struct.pack(">I", cid) + data.ljust(8, b"\0")
        bus += struct.pack("<BIBB8sBHB", 3, cid, cid & 0xFF, (cid >> 8) & 0xFF, data.ljust(8, b"\0"),
                           len(data), 10, 1)
        p = pgn_of(cid)
        if len(frames) == 1 and p in PGNS:
            write("gbt_roundtrip", v["id"], bytes([PGNS.index(p), 0]) + data)
    write("gbt_can", v["id"], bus)
write("candump", "vectors", "\n".join(candump).encode() + b"\n")
write("relay_stream", "vectors-info-first", b"\x00" + relay)
write("relay_stream", "vectors-split", b"\x0c" + relay)

ocpp = json.load(open(os.path.join(DATA, "ocpp", "vectors.json")))
for v in ocpp:
    frame = v["frame"].encode()
    write("ocpp_rpc", v["id"] + "-16", b"\x00" + frame)
    write("ocpp_rpc", v["id"] + "-201", b"\x01" + frame)
write("ocpp_rpc", "boot-status-201", b"\x01" + b'[2,"1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]')
write("ocpp_rpc", "heartbeat-result-16", bytes([2 * 8]) + b'[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]')

def length_params(max_, offset, width_index, adjustment, strip, little, fail_fast):
    return struct.pack("<HBBhBBB", max_, offset, width_index, adjustment, strip, little, fail_fast)

# Netty javadoc: 2-byte length, no adjustment, strip 0 / 2; 3-byte length with header offset.
write("length_field", "netty-2byte", length_params(1024, 0, 1, 0, 0, 0, 1) + sizes() + b"\x00\x0cHELLO, WORLD")
write("length_field", "netty-strip", length_params(1024, 0, 1, 0, 2, 0, 1) + sizes(3) + b"\x00\x0cHELLO, WORLD")
write("length_field", "netty-offset", length_params(1024, 2, 2, 0, 0, 0, 0) + sizes() + b"\xca\xfe\x00\x00\x0cHELLO, WORLD")
write("length_field", "too-long", length_params(16, 0, 3, 0, 0, 1, 0) + sizes(1) + b"\xff\x00\x00\x00" + b"A" * 40)
# YKC's envelope as an arbitrary FrameSpec: max 259, offset 1, width 1, adjustment 2, marker 0x68, CRC-16/MODBUS.
for alg in range(4):
    spec = (length_params(259, 1, 0, 2, 0, 0, 1) + b"\x01" + bytes([1, 0x68, 0])
            + b"\x01" + struct.pack("<BBBBB", alg, 2, 0, 1, 1))
    write("frame_decoder", "ykc-like-%d" % alg, spec + sizes(5) + stream[:200])

# ocpp_envelope: EnvelopeParams (LengthParams, marker [len, b0, b1, b2], header fill, Option<CrcParams>, mode),
# then the chunk sizes, then JSON lines to wrap (mode 1) or a raw stream (mode 0). The presets of
# codec/src/ocpp/envelope.rs (the alt preset's 1 MiB maximum cut to the u16 the target draws).
def crc_params(alg, start, end_gap, little, either):
    return b"\x01" + struct.pack("<BBBBB", alg, start, end_gap, little, either)
XMODEM, ISO_HDLC = 5, 11
OCPP_TCP = length_params(4096, 2, 1, 2, 0, 0, 1) + b"\x02OC\x00" + b"\x00" + crc_params(XMODEM, 2, 0, 0, 0)
OCPP_TCP_ALT = (length_params(65535, 4, 3, -8, 0, 1, 1) + b"\x03\xab\xcd\xef" + b"\x01"
                + crc_params(ISO_HDLC, 0, 0, 1, 0))
lines = b"\n".join(v["frame"].encode() for v in ocpp)
write("ocpp_envelope", "ocpp-tcp-wrap", OCPP_TCP + b"\x01" + sizes(7) + lines)
write("ocpp_envelope", "ocpp-tcp-alt-wrap", OCPP_TCP_ALT + b"\x01" + sizes(3, 11) + lines)
write("ocpp_envelope", "ocpp-tcp-heartbeat-vector", OCPP_TCP + b"\x00" + sizes(1)
      + bytes.fromhex("4f4300165b322c2231222c22486561727462656174222c7b7d5d2e61"))
write("ocpp_envelope", "ocpp-tcp-alt-heartbeat-vector", OCPP_TCP_ALT + b"\x00" + sizes()
      + bytes.fromhex("abcdef01220000005b322c2231222c22486561727462656174222c7b7d5d7383423d"))

# ocpp_roundtrip: the same layout as ocpp_rpc (control byte, frame text).
for v in ocpp:
    frame = v["frame"].encode()
    write("ocpp_roundtrip", v["id"] + "-16", b"\x00" + frame)
    write("ocpp_roundtrip", v["id"] + "-201", b"\x01" + frame)
write("ocpp_roundtrip", "boot-status-201", b"\x01" + b'[2,"1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]')
write("ocpp_roundtrip", "heartbeat-result-16", bytes([2 * 8]) + b'[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]')

# config (gateway): mode byte (even: a whole file; odd: first line a --set override, then the file), then text.
example = open(os.path.join(ROOT, "gateway", "chargegate.example.toml"), "rb").read()
write("config", "example", b"\x00" + example)
write("config", "empty", b"\x00")
write("config", "bad-water-marks", b"\x00[limits]\nlow_water_mark = 9000\nhigh_water_mark = 10\n")
write("config", "unknown-key", b"\x00instance = \"gw\"\n[listeners.ykc]\nbackog = 10\n")
write("config", "syntax", b"\x00[listeners\nbind = 1\n")
write("config", "set-override", b"\x01listeners.ykc.backlog=64\n" + example)
write("config", "set-bad-path", b"\x01listeners..ykc=1\n")
