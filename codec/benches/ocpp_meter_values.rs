//! MeterValues parse + validate + normalize: one three-phase OCPP 1.6 frame per iteration.

use std::hint::black_box;

use chargegate_codec::ocpp::normalize::normalize_v16;
use chargegate_codec::ocpp::rpc::{self, Message};
use chargegate_codec::ocpp::{v16, OcppVersion};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const FRAME: &str = r#"[2,"6b1f2a3c-0d4e-4f5a-8b6c-7d8e9f0a1b2c","MeterValues",{"connectorId":1,"transactionId":77,"meterValue":[{"timestamp":"2024-05-01T12:00:00Z","sampledValue":[
{"value":"230.1","measurand":"Voltage","phase":"L1-N","unit":"V"},{"value":"229.8","measurand":"Voltage","phase":"L2-N","unit":"V"},
{"value":"231.0","measurand":"Voltage","phase":"L3-N","unit":"V"},{"value":"16.2","measurand":"Current.Import","phase":"L1","unit":"A"},
{"value":"15.9","measurand":"Current.Import","phase":"L2","unit":"A"},{"value":"16.0","measurand":"Current.Import","phase":"L3","unit":"A"},
{"value":"11070","measurand":"Power.Active.Import","unit":"W"},{"value":"12345678","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}]"#;

fn meter_values(c: &mut Criterion) {
    let mut g = c.benchmark_group("ocpp");
    g.throughput(Throughput::Elements(1));
    g.bench_function("meter_values_parse_validate_normalize", |b| {
        b.iter(|| {
            let Ok(Message::Call(call)) = rpc::parse(black_box(FRAME), OcppVersion::V16) else {
                return 0;
            };
            let Ok(req) = v16::decode_call(&call.action, call.payload, true) else {
                return 0;
            };
            normalize_v16("CP-1", &req, None).len()
        })
    });
    g.finish();
}

criterion_group!(benches, meter_values);
criterion_main!(benches);
