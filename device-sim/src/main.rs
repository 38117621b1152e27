//! `device-sim`: plays EV chargers against a gateway.

fn main() {
    println!("device-sim {}", env!("CARGO_PKG_VERSION"));
}
