//! One MQTT publish as the spool stores it: `[qos u8][retain u8][topic length u16 BE][topic][payload]`.
//! Decoding never panics: a short or malformed record is an error the replayer counts and skips.

use rumqttc::QoS;
use thiserror::Error;

/// A publish waiting in the spool or in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Topic.
    pub topic: String,
    /// QoS.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// A record that cannot be decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RecordError {
    /// Fewer bytes than the header or the topic length says.
    #[error("record truncated")]
    Truncated,
    /// The topic is not UTF-8.
    #[error("record topic is not UTF-8")]
    Topic,
    /// A QoS byte other than 0, 1, 2.
    #[error("record QoS byte {0} is invalid")]
    Qos(u8),
}

const HEADER: usize = 4;

impl Record {
    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let topic = self.topic.as_bytes();
        let len = u16::try_from(topic.len()).unwrap_or(u16::MAX);
        let topic = topic.get(..usize::from(len)).unwrap_or(topic);
        let mut out = Vec::with_capacity(HEADER + topic.len() + self.payload.len());
        out.push(self.qos as u8);
        out.push(u8::from(self.retain));
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(topic);
        out.extend_from_slice(&self.payload);
        out
    }

    /// Parses the stored form.
    pub fn decode(bytes: &[u8]) -> Result<Record, RecordError> {
        let header = bytes.get(..HEADER).ok_or(RecordError::Truncated)?;
        let (q, retain, hi, lo) = match header {
            [q, r, hi, lo] => (*q, *r != 0, *hi, *lo),
            _ => return Err(RecordError::Truncated),
        };
        let qos = rumqttc::qos(q).map_err(|_| RecordError::Qos(q))?;
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let topic = bytes
            .get(HEADER..HEADER + len)
            .ok_or(RecordError::Truncated)?;
        let topic = std::str::from_utf8(topic).map_err(|_| RecordError::Topic)?;
        let payload = bytes.get(HEADER + len..).unwrap_or_default();
        Ok(Record {
            topic: topic.to_owned(),
            qos,
            retain,
            payload: payload.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_garbage_is_an_error() {
        let r = Record {
            topic: "cg/P1/presence".into(),
            qos: QoS::AtLeastOnce,
            retain: true,
            payload: b"{}".to_vec(),
        };
        assert_eq!(Record::decode(&r.encode()), Ok(r));
        assert_eq!(Record::decode(&[1, 0]), Err(RecordError::Truncated));
        assert_eq!(
            Record::decode(&[1, 0, 0, 9, b'a']),
            Err(RecordError::Truncated)
        );
        assert_eq!(Record::decode(&[7, 0, 0, 0]), Err(RecordError::Qos(7)));
    }
}
