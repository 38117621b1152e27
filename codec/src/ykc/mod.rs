//! The YKC (云快充) V1.5/V1.6 charger protocol.
