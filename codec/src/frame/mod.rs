//! Protocol-neutral framing: the Netty-exact length-field decoder, start-marker resync and CRC checking.
