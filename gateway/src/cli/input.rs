//! Reading the input of `chargegate decode`: a hex string, a file (hex text or raw bytes), or standard input.

use std::io::Read;
use std::path::Path;

/// Why the input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file or standard input could not be read.
    #[error("cannot read {what}: {source}")]
    Io {
        /// What was being read.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Hex text with a character that is not a hex digit.
    #[error("not hex: character {ch:?} at offset {offset}")]
    BadHex {
        /// The offending character.
        ch: char,
        /// Its offset in the text (after whitespace was dropped).
        offset: usize,
    },
    /// Hex text with an odd number of digits.
    #[error("odd number of hex digits ({digits})")]
    OddHex {
        /// How many digits there were.
        digits: usize,
    },
}

/// The input as the user gave it: raw bytes, or text (hex or log lines, for the caller to interpret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Binary bytes read from a file that is not text.
    Bytes(Vec<u8>),
    /// Text: a command-line argument, standard input, or a text file.
    Text(String),
}

/// Loads `arg`: `-` reads standard input; an existing path reads the file; anything else is the text itself.
pub fn load(arg: &str) -> Result<Input, InputError> {
    let raw = if arg == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|source| InputError::Io {
                what: "standard input".into(),
                source,
            })?;
        buf
    } else if Path::new(arg).is_file() {
        std::fs::read(arg).map_err(|source| InputError::Io {
            what: arg.to_owned(),
            source,
        })?
    } else {
        return Ok(Input::Text(arg.to_owned()));
    };
    match String::from_utf8(raw) {
        Ok(text) if text.chars().all(|c| !c.is_control() || c.is_whitespace()) => {
            Ok(Input::Text(text))
        }
        Ok(text) => Ok(Input::Bytes(text.into_bytes())),
        Err(e) => Ok(Input::Bytes(e.into_bytes())),
    }
}

/// Parses hex text into bytes, ignoring whitespace, an optional `0x` prefix per token, and `:`/`-` separators.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, InputError> {
    let mut digits = Vec::with_capacity(text.len());
    for token in text.split_whitespace() {
        let token = token
            .strip_prefix("0x")
            .or_else(|| token.strip_prefix("0X"))
            .unwrap_or(token);
        for ch in token.chars().filter(|c| *c != ':' && *c != '-') {
            let value = ch.to_digit(16).ok_or(InputError::BadHex {
                ch,
                offset: digits.len(),
            })?;
            // A hex digit is < 16, so it always fits a byte.
            digits.push(value as u8);
        }
    }
    if digits.len() % 2 != 0 {
        return Err(InputError::OddHex {
            digits: digits.len(),
        });
    }
    Ok(digits
        .chunks_exact(2)
        .map(|pair| (pair[0] << 4) | pair[1])
        .collect())
}

/// Bytes of an input that must be a byte stream: binary as is, text as hex.
pub fn to_bytes(input: &Input) -> Result<Vec<u8>, InputError> {
    match input {
        Input::Bytes(b) => Ok(b.clone()),
        Input::Text(t) => parse_hex(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_spaces_and_prefixes_parses() {
        assert_eq!(
            parse_hex("68 0C 0x00\n00").unwrap(),
            vec![0x68, 0x0C, 0x00, 0x00]
        );
        assert_eq!(parse_hex("aa:bb-cc").unwrap(), vec![0xAA, 0xBB, 0xCC]);
    }

    #[test]
    fn bad_hex_names_the_character_and_offset() {
        let err = parse_hex("680G").unwrap_err();
        assert!(
            matches!(err, InputError::BadHex { ch: 'G', offset: 3 }),
            "{err:?}"
        );
        assert!(matches!(
            parse_hex("680"),
            Err(InputError::OddHex { digits: 3 })
        ));
    }

    #[test]
    fn an_argument_that_is_not_a_file_is_text() {
        assert_eq!(load("680C").unwrap(), Input::Text("680C".into()));
    }
}
