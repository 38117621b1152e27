//! Reading `candump` (Linux can-utils) log lines, the usual way CAN captures are shared:
//!
//! * `1826F456#010100` — the compact `cansend` / `candump -L` form, also with `(1703534921.123456) can0 ` in front;
//! * ` can0  1826F456   [3]  01 01 00` — candump's default screen form, optionally after a `(timestamp)`.
//!
//! Errors name the 1-based column where the line stops making sense.

use thiserror::Error;

use super::can_frame::{CanFrame, CAN_MAX_DLC, MAX_STANDARD_ID};
use super::can_id::MAX_EXTENDED_ID;

/// Hex digits of a standard id in candump output; longer ids are extended.
const STANDARD_ID_DIGITS: usize = 3;
/// Most hex digits of an extended id.
const EXTENDED_ID_DIGITS: usize = 8;

/// What is wrong at the error's column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandumpProblem {
    /// The line holds no frame.
    Empty,
    /// `(…)` is not a decimal timestamp.
    Timestamp,
    /// The identifier is missing, not hex, or too large.
    Id,
    /// A data byte is not two hex digits.
    Data,
    /// More than 8 data bytes.
    TooLong,
    /// `[n]` is missing or not a number 0–8.
    Dlc,
    /// `[n]` announces a different number of bytes than follow.
    DlcMismatch,
}

impl std::fmt::Display for CandumpProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CandumpProblem::Empty => "no frame on the line",
            CandumpProblem::Timestamp => "timestamp is not `(seconds.fraction)`",
            CandumpProblem::Id => "CAN id is not 1–8 hex digits within 29 bits",
            CandumpProblem::Data => "data byte is not two hex digits",
            CandumpProblem::TooLong => "more than 8 data bytes",
            CandumpProblem::Dlc => "`[n]` length is missing or not 0–8",
            CandumpProblem::DlcMismatch => "`[n]` length differs from the bytes that follow",
        })
    }
}

/// A candump line that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("candump line, column {column}: {problem}")]
pub struct CandumpError {
    /// 1-based column (byte position) of the offending text.
    pub column: usize,
    /// What is wrong there.
    pub problem: CandumpProblem,
}

impl CandumpError {
    /// Stable short name, used as a metric label.
    pub fn kind(&self) -> &'static str {
        "candump_syntax"
    }
}

/// One parsed candump line.
#[derive(Debug, Clone, PartialEq)]
pub struct CandumpLine<'a> {
    /// The `(seconds.fraction)` timestamp, in seconds.
    pub timestamp: Option<f64>,
    /// The interface name (`can0`).
    pub interface: Option<&'a str>,
    /// The frame.
    pub frame: CanFrame,
}

fn err(column: usize, problem: CandumpProblem) -> CandumpError {
    CandumpError { column, problem }
}

/// Whitespace-separated tokens with their 1-based start columns.
fn tokens(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s + 1, line.get(s..i).unwrap_or("")));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s + 1, line.get(s..).unwrap_or("")));
    }
    out
}

fn parse_id(col: usize, text: &str) -> Result<(u32, bool), CandumpError> {
    if text.is_empty() || text.len() > EXTENDED_ID_DIGITS {
        return Err(err(col, CandumpProblem::Id));
    }
    let id = u32::from_str_radix(text, 16).map_err(|_| err(col, CandumpProblem::Id))?;
    let extended = text.len() > STANDARD_ID_DIGITS;
    if (extended && id > MAX_EXTENDED_ID) || (!extended && id > MAX_STANDARD_ID) {
        return Err(err(col, CandumpProblem::Id));
    }
    Ok((id, extended))
}

fn hex_byte(col: usize, pair: &[u8]) -> Result<u8, CandumpError> {
    let digit = |i: usize| {
        pair.get(i)
            .and_then(|d| char::from(*d).to_digit(16))
            .ok_or(err(col + i, CandumpProblem::Data))
    };
    Ok((digit(0)? * 16 + digit(1)?) as u8)
}

/// Compact data after `#`: hex pairs, optional `.` separators, or `R` / `R<len>` for a remote frame.
fn parse_compact_data(col: usize, text: &str, frame: &mut CanFrame) -> Result<(), CandumpError> {
    if let Some(rest) = text.strip_prefix('R') {
        frame.remote = true;
        frame.len = if rest.is_empty() {
            0
        } else {
            rest.parse::<u8>()
                .ok()
                .filter(|n| usize::from(*n) <= CAN_MAX_DLC)
                .ok_or(err(col + 1, CandumpProblem::Dlc))?
        };
        return Ok(());
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut n = 0usize;
    while i < bytes.len() {
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            continue;
        }
        if n >= CAN_MAX_DLC {
            return Err(err(col + i, CandumpProblem::TooLong));
        }
        let b = hex_byte(col + i, bytes.get(i..).unwrap_or(&[]))?;
        if let Some(slot) = frame.bytes.get_mut(n) {
            *slot = b;
        }
        n += 1;
        i += 2;
    }
    frame.len = n as u8;
    Ok(())
}

fn parse_timestamp(col: usize, tok: &str) -> Result<f64, CandumpError> {
    tok.strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| t.is_finite())
        .ok_or(err(col, CandumpProblem::Timestamp))
}

/// Parses one candump line (either form); surrounding whitespace is ignored.
pub fn parse_line(line: &str) -> Result<CandumpLine<'_>, CandumpError> {
    let toks = tokens(line);
    let mut rest = toks.as_slice();
    let mut timestamp = None;
    if let Some(((col, tok), tail)) = rest.split_first() {
        if tok.starts_with('(') {
            timestamp = Some(parse_timestamp(*col, tok)?);
            rest = tail;
        }
    }
    let end_col = line.len() + 1;
    // Compact form: the token with '#'.
    if let Some(pos) = rest.iter().position(|(_, t)| t.contains('#')) {
        let interface = pos
            .checked_sub(1)
            .and_then(|i| rest.get(i))
            .map(|(_, t)| *t);
        let (col, tok) = rest.get(pos).copied().unwrap_or((end_col, ""));
        let (id_text, data_text) = tok.split_once('#').unwrap_or((tok, ""));
        let (id, extended) = parse_id(col, id_text)?;
        let mut frame = CanFrame {
            id,
            extended,
            remote: false,
            len: 0,
            bytes: [0; CAN_MAX_DLC],
        };
        parse_compact_data(col + id_text.len() + 1, data_text, &mut frame)?;
        return Ok(CandumpLine {
            timestamp,
            interface,
            frame,
        });
    }
    // Screen form: iface id [n] bytes…
    let (iface, id_tok, dlc_tok, data) = match rest {
        [iface, id, dlc, data @ ..] => (iface, id, dlc, data),
        [] => return Err(err(end_col, CandumpProblem::Empty)),
        [_] | [_, _] => return Err(err(end_col, CandumpProblem::Dlc)),
    };
    let (id, extended) = parse_id(id_tok.0, id_tok.1)?;
    let dlc = dlc_tok
        .1
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| t.parse::<usize>().ok())
        .filter(|n| *n <= CAN_MAX_DLC)
        .ok_or(err(dlc_tok.0, CandumpProblem::Dlc))?;
    let mut frame = CanFrame {
        id,
        extended,
        remote: false,
        len: dlc as u8,
        bytes: [0; CAN_MAX_DLC],
    };
    if data.first().is_some_and(|(_, t)| *t == "remote") {
        frame.remote = true;
        return Ok(CandumpLine {
            timestamp,
            interface: Some(iface.1),
            frame,
        });
    }
    if data.len() != dlc {
        let col = data.get(dlc).map_or(end_col, |(c, _)| *c);
        return Err(err(col, CandumpProblem::DlcMismatch));
    }
    for ((col, tok), slot) in data.iter().zip(frame.bytes.iter_mut()) {
        if tok.len() != 2 {
            return Err(err(*col, CandumpProblem::Data));
        }
        *slot = hex_byte(*col, tok.as_bytes())?;
    }
    Ok(CandumpLine {
        timestamp,
        interface: Some(iface.1),
        frame,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_line_without_prefix() {
        let l = parse_line("1826F456#010100").unwrap();
        assert_eq!(l.frame, CanFrame::extended(0x1826_F456, &[1, 1, 0]));
        assert_eq!((l.timestamp, l.interface), (None, None));
    }

    #[test]
    fn compact_line_with_timestamp_and_interface() {
        let l = parse_line("(1703534921.123456) can0 1826F456#010100").unwrap();
        assert_eq!(l.timestamp, Some(1_703_534_921.123_456));
        assert_eq!(l.interface, Some("can0"));
        assert_eq!(l.frame.data(), &[1, 1, 0]);
    }

    #[test]
    fn screen_form_with_length_in_brackets() {
        let l = parse_line(" can0  1826F456   [3]  01 01 00").unwrap();
        assert_eq!(l.frame, CanFrame::extended(0x1826_F456, &[1, 1, 0]));
        assert_eq!(l.interface, Some("can0"));
    }

    #[test]
    fn bad_hex_digit_names_its_column() {
        let e = parse_line("1826F456#01G100").unwrap_err();
        assert_eq!(e, err(12, CandumpProblem::Data));
    }

    #[test]
    fn odd_number_of_digits_names_the_missing_digit() {
        assert_eq!(
            parse_line("123#0").unwrap_err(),
            err(6, CandumpProblem::Data)
        );
    }

    #[test]
    fn nine_bytes_are_too_long() {
        let e = parse_line("123#000102030405060708").unwrap_err();
        assert_eq!(e, err(21, CandumpProblem::TooLong));
    }

    #[test]
    fn screen_form_length_mismatch_is_reported() {
        let e = parse_line("can0 123 [2] 01").unwrap_err();
        assert_eq!(e.problem, CandumpProblem::DlcMismatch);
    }

    #[test]
    fn standard_id_over_11_bits_is_rejected() {
        assert_eq!(
            parse_line("FFF#00").unwrap_err(),
            err(1, CandumpProblem::Id)
        );
    }
}
