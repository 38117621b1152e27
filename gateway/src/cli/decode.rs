//! `chargegate decode`: the codecs on the command line, for debugging captures.
//!
//! Each frame prints as one JSON object per line — its envelope, typed message and normalized events — and each
//! refused frame as an `{"error": …}` object naming the error kind, the reason (with the field and body offset
//! where the codec knows them) and the byte offset in the input. The run fails (non-zero exit) when any frame
//! was refused, so scripts can check captures.

use std::io::Write;

use bytes::BytesMut;
use chargegate_codec::frame::FrameEvent;
use chargegate_codec::gbt27930::{CanDecoder, RelayLayout, TpConfig, RELAY_FRAME_LEN};
use chargegate_codec::ocpp::envelope::{Envelope, OCPP_TCP, OCPP_TCP_ALT};
use chargegate_codec::ocpp::{self, OcppVersion};
use chargegate_codec::ykc::{self, StreamDecoder, StreamItem};
use serde_json::{json, Value};
use tokio_util::codec::Decoder;

use super::input::{self, Input, InputError};

/// The protocols `decode` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DecodeProtocol {
    /// YKC V1.5/V1.6 binary frames (hex or a binary capture; several frames back to back).
    Ykc,
    /// GB/T 27930 CAN frames: candump log lines, `ID#DATA` lines, or hex of 13-byte relay frames.
    #[value(name = "gbt27930-can")]
    Gbt27930Can,
    /// OCPP-J 1.6 messages, one JSON array per line.
    Ocpp,
    /// OCPP-J 2.0.1 messages, one JSON array per line.
    Ocpp201,
    /// OCPP-J 1.6 inside a binary envelope over raw TCP (hex or a binary capture); see `--envelope`.
    #[value(name = "ocpp-tcp")]
    OcppTcp,
}

/// Options of one `decode` run.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// The protocol.
    pub protocol: DecodeProtocol,
    /// Charger identity for protocols whose frames do not carry one (OCPP, GB/T CAN).
    pub charger: String,
    /// Byte layout of 13-byte relay frames (GB/T over a CAN-to-Ethernet converter).
    pub relay_layout: RelayLayout,
    /// Envelope for `ocpp-tcp`: a preset name (`ocpp-tcp`, `ocpp-tcp-alt`) or a TOML file declaring one.
    pub envelope: String,
}

/// What a run printed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Frames decoded.
    pub frames: usize,
    /// Frames refused.
    pub errors: usize,
}

/// Decodes `arg` (hex text, a file, or `-` for standard input) and prints one JSON object per frame to `out`.
pub fn run(
    opts: &DecodeOptions,
    arg: &str,
    out: &mut dyn Write,
) -> Result<Summary, DecodeCliError> {
    let input = input::load(arg)?;
    let mut printer = Printer {
        out,
        summary: Summary::default(),
    };
    match opts.protocol {
        DecodeProtocol::Ykc => decode_ykc(&input::to_bytes(&input)?, &mut printer)?,
        DecodeProtocol::Gbt27930Can => decode_gbt(opts, &input, &mut printer)?,
        DecodeProtocol::Ocpp => decode_ocpp(OcppVersion::V16, opts, &input, &mut printer)?,
        DecodeProtocol::Ocpp201 => decode_ocpp(OcppVersion::V201, opts, &input, &mut printer)?,
        DecodeProtocol::OcppTcp => decode_ocpp_tcp(opts, &input::to_bytes(&input)?, &mut printer)?,
    }
    Ok(printer.summary)
}

/// Why `decode` could not run at all (as opposed to a frame being refused, which is printed).
#[derive(Debug, thiserror::Error)]
pub enum DecodeCliError {
    /// The input could not be read or is not hex.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// The input is of the wrong form for the protocol.
    #[error("{0}")]
    Form(String),
}

struct Printer<'a> {
    out: &'a mut dyn Write,
    summary: Summary,
}

impl Printer<'_> {
    fn frame(&mut self, value: Value) -> std::io::Result<()> {
        self.summary.frames += 1;
        writeln!(self.out, "{value}")
    }

    fn error(&mut self, kind: &str, reason: String, location: Value) -> std::io::Result<()> {
        self.summary.errors += 1;
        let mut error = json!({"kind": kind, "reason": reason});
        if let (Value::Object(e), Value::Object(loc)) = (&mut error, location) {
            e.extend(loc);
        }
        writeln!(self.out, "{}", json!({ "error": error }))
    }
}

fn decode_ykc(bytes: &[u8], p: &mut Printer<'_>) -> Result<(), DecodeCliError> {
    let total = bytes.len();
    let mut decoder = StreamDecoder::new();
    let mut buf = BytesMut::from(bytes);
    while let Some(item) = decoder
        .decode_eof(&mut buf)
        .map_err(|e| DecodeCliError::Form(e.to_string()))?
    {
        let end = total - buf.len();
        match item {
            StreamItem::Decoded(d) => {
                let frame = &d.frame;
                let offset = end.saturating_sub(frame.raw.len());
                let events = ykc::normalize(&d.frame, &d.message);
                let deviations: Vec<_> = d.deviations().collect();
                p.frame(json!({
                    "offset": offset,
                    "frame": {
                        "type": format!("0x{:02X}", frame.frame_type),
                        "seq": hex::encode_upper(frame.seq),
                        "encryption": frame.encryption,
                        "crc_order": frame.crc_order,
                        "length": frame.raw.len(),
                        "hex": hex::encode_upper(&frame.raw),
                    },
                    "message": d.message,
                    "deviations": deviations,
                    "events": events,
                }))?;
            }
            StreamItem::Rejected(r) => {
                // A CRC failure consumes only the start byte (resync); any other refusal consumed the frame.
                let offset = if r.kind == "ykc_bad_crc" {
                    end.saturating_sub(1)
                } else {
                    end.saturating_sub(r.bytes.len())
                };
                p.error(
                    r.kind,
                    r.reason,
                    json!({"offset": offset, "hex": hex::encode_upper(&r.bytes)}),
                )?;
            }
            StreamItem::Skipped(n) => {
                writeln!(
                    p.out,
                    "{}",
                    json!({"skipped": n, "offset": end.saturating_sub(n)})
                )?;
            }
        }
    }
    Ok(())
}

/// Time step between frames of a capture without timestamps, well inside every J1939 timeout.
const UNTIMED_STEP_MS: u64 = 1;
/// How far past the last frame to look for expired transfers at the end of the input.
const END_OF_INPUT_MS: u64 = 60_000;

fn decode_gbt(
    opts: &DecodeOptions,
    input: &Input,
    p: &mut Printer<'_>,
) -> Result<(), DecodeCliError> {
    let mut decoder = CanDecoder::new(TpConfig::default());
    let mut items = Vec::new();
    let mut now = 0u64;
    let emit = |items: &mut Vec<_>, location: Value, p: &mut Printer<'_>| -> std::io::Result<()> {
        for item in items.drain(..) {
            match item {
                Ok(decoded) => p.frame(json!({"at": location, "decoded": decoded}))?,
                Err(e) => {
                    let e: chargegate_codec::gbt27930::DecodeError = e;
                    p.error(e.kind(), e.to_string(), json!({ "at": location }))?
                }
            }
        }
        Ok(())
    };
    let text = match input {
        Input::Text(t) if t.contains('#') || t.contains('[') => Some(t),
        _ => None,
    };
    if let Some(text) = text {
        for (n, line) in text.lines().enumerate() {
            now += UNTIMED_STEP_MS;
            let location = json!({"line": n + 1});
            if let Err(e) = decoder.push_line(line, now, &mut items) {
                p.error("candump", e.to_string(), location.clone())?;
            }
            emit(&mut items, location, p)?;
        }
    } else {
        let bytes = input::to_bytes(input)?;
        if bytes.len() % RELAY_FRAME_LEN != 0 {
            return Err(DecodeCliError::Form(format!(
                "{} bytes is not a whole number of {RELAY_FRAME_LEN}-byte relay frames",
                bytes.len()
            )));
        }
        for (n, record) in bytes.chunks_exact(RELAY_FRAME_LEN).enumerate() {
            now += UNTIMED_STEP_MS;
            let location = json!({"offset": n * RELAY_FRAME_LEN});
            match opts.relay_layout.decode(record) {
                Ok(frame) => decoder.push(&frame, now, &mut items),
                Err(e) => p.error(e.kind(), e.to_string(), location.clone())?,
            }
            emit(&mut items, location, p)?;
        }
    }
    decoder.poll(now.saturating_add(END_OF_INPUT_MS), &mut items);
    emit(&mut items, json!("end of input"), p)?;
    Ok(())
}

fn decode_ocpp(
    version: OcppVersion,
    opts: &DecodeOptions,
    input: &Input,
    p: &mut Printer<'_>,
) -> Result<(), DecodeCliError> {
    let Input::Text(text) = input else {
        return Err(DecodeCliError::Form(
            "OCPP input must be text: one JSON array per line".into(),
        ));
    };
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        decode_ocpp_message(version, opts, line.trim(), json!({"line": n + 1}), p)?;
    }
    Ok(())
}

fn decode_ocpp_tcp(
    opts: &DecodeOptions,
    bytes: &[u8],
    p: &mut Printer<'_>,
) -> Result<(), DecodeCliError> {
    let envelope = match opts.envelope.as_str() {
        OCPP_TCP => Envelope::ocpp_tcp(),
        OCPP_TCP_ALT => Envelope::ocpp_tcp_alt(),
        path => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                DecodeCliError::Form(format!(
                    "envelope {path:?}: not a preset and not readable: {e}"
                ))
            })?;
            toml::from_str(&text)
                .map_err(|e| DecodeCliError::Form(format!("envelope {path:?}: {e}")))?
        }
    };
    let mut decoder = envelope.decoder();
    let total = bytes.len();
    let mut buf = BytesMut::from(bytes);
    while let Some(event) = decoder
        .decode_eof(&mut buf)
        .map_err(|e| DecodeCliError::Form(e.to_string()))?
    {
        let end = total - buf.len();
        match event {
            FrameEvent::Frame { bytes, .. } => {
                match envelope.payload(&bytes).map(std::str::from_utf8) {
                    Some(Ok(text)) => decode_ocpp_message(
                        OcppVersion::V16,
                        opts,
                        text,
                        json!({ "end_offset": end }),
                        p,
                    )?,
                    _ => p.error(
                        "not_utf8",
                        "envelope payload is not UTF-8 JSON".into(),
                        json!({"end_offset": end, "hex": hex::encode_upper(&bytes)}),
                    )?,
                }
            }
            FrameEvent::CrcMismatch { bytes, .. } => p.error(
                "crc_mismatch",
                format!("envelope CRC mismatch over {} bytes", bytes.len()),
                json!({"end_offset": end, "hex": hex::encode_upper(&bytes)}),
            )?,
            FrameEvent::Garbage { skipped } => writeln!(
                p.out,
                "{}",
                json!({"skipped": skipped, "offset": end.saturating_sub(skipped)})
            )?,
            other => p.error(
                other.kind(),
                format!("{other:?}"),
                json!({ "end_offset": end }),
            )?,
        }
    }
    Ok(())
}

fn decode_ocpp_message(
    version: OcppVersion,
    opts: &DecodeOptions,
    text: &str,
    location: Value,
    p: &mut Printer<'_>,
) -> Result<(), DecodeCliError> {
    let message = match ocpp::rpc::parse(text, version) {
        Ok(m) => m,
        Err(e) => {
            p.error(e.kind(), e.to_string(), json!({ "at": location }))?;
            return Ok(());
        }
    };
    match &message {
        ocpp::Message::Call(call) | ocpp::Message::Send(call) => {
            let decoded = match version {
                OcppVersion::V16 => {
                    ocpp::v16::decode_call(&call.action, call.payload, true).map(|req| {
                        let events = ocpp::normalize::normalize_v16(&opts.charger, &req, None);
                        (serde_json::to_value(&req), events)
                    })
                }
                _ => ocpp::v201::decode_call(&call.action, call.payload, true).map(|req| {
                    let events = ocpp::normalize::v201::normalize_v201(&opts.charger, &req);
                    (serde_json::to_value(&req), events)
                }),
            };
            match decoded {
                Ok((payload, events)) => p.frame(json!({
                    "at": location, "type": "call", "id": call.id, "action": call.action,
                    "payload": payload.unwrap_or(Value::Null), "events": events,
                }))?,
                Err(e) => {
                    let code = e.code().as_wire(version);
                    p.error(
                        e.kind(),
                        e.to_string(),
                        json!({"at": location, "call_error": code, "details": e.details()}),
                    )?
                }
            }
        }
        ocpp::Message::CallResult(r) => {
            let payload: Value = serde_json::from_str(r.payload.get()).unwrap_or(Value::Null);
            p.frame(json!({"at": location, "type": "call_result", "id": r.id, "payload": payload}))?
        }
        ocpp::Message::CallError(e) | ocpp::Message::CallResultError(e) => {
            let details: Value = serde_json::from_str(e.details.get()).unwrap_or(Value::Null);
            p.frame(
                json!({"at": location, "type": "call_error", "id": e.id, "error_code": e.error_code,
                "description": e.description, "details": details}),
            )?
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_to_string(protocol: DecodeProtocol, arg: &str) -> (Summary, Vec<Value>) {
        let opts = DecodeOptions {
            protocol,
            charger: "CP-1".into(),
            relay_layout: RelayLayout::InfoFirst,
            envelope: "ocpp-tcp".into(),
        };
        let mut out = Vec::new();
        let summary = run(&opts, arg, &mut out).unwrap();
        let lines = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (summary, lines)
    }

    #[test]
    fn the_spec_login_reply_prints_the_pile_and_a_successful_result() {
        // id S1 — DaYePython/ykc-parser references/docs/云快充充电平台协议V1.6.md §6.2 example.
        let (summary, lines) =
            run_to_string(DecodeProtocol::Ykc, "680C000000025503141278230500DA4C");
        assert_eq!(
            summary,
            Summary {
                frames: 1,
                errors: 0
            }
        );
        let msg = &lines[0]["message"];
        assert_eq!(msg["pile"], "55031412782305");
        assert_eq!(msg["outcome"], "success");
        assert_eq!(lines[0]["frame"]["type"], "0x02");
    }

    #[test]
    fn a_bad_crc_is_an_error_with_kind_and_offset_and_the_next_frame_still_prints() {
        // id S36-badcrc (placeholder CRC) followed by id S1.
        let (summary, lines) = run_to_string(
            DecodeProtocol::Ykc,
            "680C000300363201020000000101C1A9 680C000000025503141278230500DA4C",
        );
        assert_eq!(
            summary,
            Summary {
                frames: 1,
                errors: 1
            }
        );
        assert_eq!(lines[0]["error"]["kind"], "ykc_bad_crc");
        assert_eq!(lines[0]["error"]["offset"], 0);
        assert!(lines.iter().any(|l| l["frame"]["type"] == "0x02"));
    }

    #[test]
    fn candump_lines_decode_with_and_without_the_timestamp_prefix() {
        // id C1/C2 — ru5t/gbt27930-CAN-parser candump-2023-12-25_220841.log (CHM, BHM).
        let (summary, lines) = run_to_string(
            DecodeProtocol::Gbt27930Can,
            "(1703534921.123456) can0 1826F456#010100\n182756F4#A510",
        );
        assert_eq!(summary.errors, 0, "{lines:?}");
        assert_eq!(lines[0]["decoded"]["message"]["message"], "CHM");
        assert_eq!(lines[1]["decoded"]["message"]["message"], "BHM");
    }

    /// id C9 — ru5t/gbt27930-CAN-parser candump-2023-12-25_220841.log: a BCP sent by RTS/CTS transport.
    const C9_LINES: &str =
        "1CEC56F4#100D0002FF000600\n1CEB56F4#017201DA052A02A5\n1CEB56F4#0210730803C60EFF";

    #[test]
    fn a_multi_packet_transfer_is_reassembled_from_candump_lines() {
        let (summary, lines) = run_to_string(DecodeProtocol::Gbt27930Can, C9_LINES);
        assert_eq!(summary.errors, 0, "{lines:?}");
        let messages: Vec<_> = lines
            .iter()
            .filter(|l| l["decoded"]["item"] == "message")
            .collect();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0]["decoded"]["message"]["message"], "BCP");
    }

    #[test]
    fn a_multi_packet_transfer_is_reassembled_from_relay_frames() {
        use chargegate_codec::gbt27930::CanFrame;
        let mut hex_text = String::new();
        for line in C9_LINES.lines() {
            let (id, data) = line.split_once('#').unwrap();
            let data = hex::decode(data).unwrap();
            let frame = CanFrame::extended(u32::from_str_radix(id, 16).unwrap(), &data);
            hex_text.push_str(&hex::encode(RelayLayout::InfoFirst.encode(&frame)));
        }
        let (summary, lines) = run_to_string(DecodeProtocol::Gbt27930Can, &hex_text);
        assert_eq!(summary.errors, 0, "{lines:?}");
        assert!(
            lines
                .iter()
                .any(|l| l["decoded"]["message"]["message"] == "BCP"),
            "{lines:?}"
        );
    }

    #[test]
    fn an_ocpp_boot_notification_normalizes_to_online() {
        let (summary, lines) = run_to_string(
            DecodeProtocol::Ocpp,
            r#"[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}]"#,
        );
        assert_eq!(
            summary,
            Summary {
                frames: 1,
                errors: 0
            }
        );
        assert_eq!(lines[0]["events"][0]["kind"], "online");
    }

    #[test]
    fn an_ocpp_tcp_capture_decodes_through_the_default_envelope() {
        // `[2,"1","Heartbeat",{}]` in the `ocpp-tcp` preset, after two noise bytes.
        let frame = Envelope::ocpp_tcp()
            .encode(br#"[2,"1","Heartbeat",{}]"#)
            .unwrap();
        let (summary, lines) = run_to_string(
            DecodeProtocol::OcppTcp,
            &format!("0013 {}", hex::encode_upper(frame)),
        );
        assert_eq!(
            summary,
            Summary {
                frames: 1,
                errors: 0
            },
            "{lines:?}"
        );
        assert_eq!(lines[1]["action"], "Heartbeat");
        assert_eq!(lines[1]["events"][0]["kind"], "heartbeat");
    }

    #[test]
    fn an_invalid_ocpp_call_names_the_callerror_code() {
        let (summary, lines) = run_to_string(
            DecodeProtocol::Ocpp,
            r#"[2,"1","BootNotification",{"chargePointVendor":"VendorX"}]"#,
        );
        assert_eq!(summary.errors, 1);
        assert_eq!(
            lines[0]["error"]["call_error"],
            "OccurenceConstraintViolation"
        );
    }
}
