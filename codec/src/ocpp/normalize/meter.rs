//! Sampled values → [`MeterData`]: unit conversion to the event model's SI units and the split between the
//! well-known fields, per-phase values and other readings. Shared by 1.6 and 2.0.1.

use crate::event::{MeterData, PhaseReading, Reading};

/// Divisor from W, Wh, var, varh, VA to their kilo units.
const KILO: f64 = 1000.0;
/// Offset between kelvin and degrees Celsius.
const KELVIN_OFFSET: f64 = 273.15;
/// Fahrenheit → Celsius: subtract this, then scale.
const FAHRENHEIT_OFFSET: f64 = 32.0;
/// Fahrenheit → Celsius scale factor.
const FAHRENHEIT_SCALE: f64 = 5.0 / 9.0;

/// One sampled value, version-neutral: the measurand, its value as a number in `unit`, and its qualifiers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample<'a> {
    /// Measurand name (`Energy.Active.Import.Register` when the charger omitted it).
    pub measurand: &'a str,
    /// The value, with any 2.0.1 `multiplier` already applied.
    pub value: f64,
    /// Unit as sent, or `None` for the measurand's default.
    pub unit: Option<&'a str>,
    /// Phase as sent.
    pub phase: Option<&'a str>,
    /// Location as sent.
    pub location: Option<&'a str>,
    /// Context as sent.
    pub context: Option<&'a str>,
}

/// The unit the spec implies when `unit` is absent.
fn default_unit(measurand: &str) -> &'static str {
    if measurand.starts_with("Energy.Reactive") {
        "varh"
    } else if measurand.starts_with("Energy") {
        "Wh"
    } else if measurand.starts_with("Power.Reactive") {
        "var"
    } else if measurand.starts_with("Power.Factor") {
        ""
    } else if measurand.starts_with("Power") {
        "W"
    } else if measurand.starts_with("Current") {
        "A"
    } else if measurand.starts_with("Voltage") {
        "V"
    } else if measurand == "SoC" {
        "Percent"
    } else if measurand == "Temperature" {
        "Celsius"
    } else if measurand == "Frequency" {
        "Hz"
    } else {
        ""
    }
}

/// Converts a value to the event model's unit: Wh → kWh, W → kW, varh → kvarh, var → kvar, VA → kVA, K and
/// Fahrenheit → °C (`Cel`), Percent → `%`. Returns the converted value and the unit's name.
pub fn to_si(value: f64, unit: &str) -> (f64, &'static str) {
    match unit {
        "Wh" => (value / KILO, "kWh"),
        "kWh" => (value, "kWh"),
        "W" => (value / KILO, "kW"),
        "kW" => (value, "kW"),
        "varh" => (value / KILO, "kvarh"),
        "kvarh" => (value, "kvarh"),
        "var" => (value / KILO, "kvar"),
        "kvar" => (value, "kvar"),
        "VA" => (value / KILO, "kVA"),
        "kVA" => (value, "kVA"),
        "A" => (value, "A"),
        "V" => (value, "V"),
        "Celsius" | "Celcius" | "Cel" => (value, "Cel"),
        "Fahrenheit" => ((value - FAHRENHEIT_OFFSET) * FAHRENHEIT_SCALE, "Cel"),
        "K" => (value - KELVIN_OFFSET, "Cel"),
        "Percent" | "%" => (value, "%"),
        "Hz" | "Hertz" => (value, "Hz"),
        "s" => (value, "s"),
        "" => (value, ""),
        _ => (value, "other"),
    }
}

/// Folds samples into `meter`: un-phased well-known measurands set the dedicated fields, phased voltage /
/// current / active power / active energy go to `phases` (`L1-N` counts as `L1`), everything else to `readings`.
pub fn fold<'a>(meter: &mut MeterData, samples: impl IntoIterator<Item = Sample<'a>>) {
    for s in samples {
        let (value, unit) = to_si(s.value, s.unit.unwrap_or_else(|| default_unit(s.measurand)));
        if let Some(phase) = s.phase {
            if fold_phase(meter, phase, s.measurand, value) {
                continue;
            }
        } else if fold_total(meter, &s, value, unit) {
            continue;
        }
        meter.readings.push(Reading {
            measurand: s.measurand.to_owned(),
            value,
            unit: unit.to_owned(),
            phase: s.phase.map(str::to_owned),
            location: s.location.map(str::to_owned),
            context: s.context.map(str::to_owned),
        });
    }
}

fn fold_total(meter: &mut MeterData, s: &Sample<'_>, value: f64, unit: &str) -> bool {
    let field = match (s.measurand, unit) {
        ("Energy.Active.Import.Register", "kWh") => {
            meter.energy_is_register = true;
            &mut meter.energy_kwh
        }
        ("Power.Active.Import", "kW") => &mut meter.power_kw,
        ("Current.Import", "A") => &mut meter.current_a,
        ("Voltage", "V") => &mut meter.voltage_v,
        ("SoC", "%") => &mut meter.soc_pct,
        ("Temperature", "Cel") if s.location != Some("EV") => &mut meter.connector_temperature_c,
        _ => return false,
    };
    *field = Some(value);
    true
}

fn fold_phase(meter: &mut MeterData, phase: &str, measurand: &str, value: f64) -> bool {
    let name = phase.strip_suffix("-N").unwrap_or(phase);
    let slot: fn(&mut PhaseReading) -> &mut Option<f64> = match measurand {
        "Voltage" => |p| &mut p.voltage_v,
        "Current.Import" => |p| &mut p.current_a,
        "Power.Active.Import" => |p| &mut p.power_kw,
        "Energy.Active.Import.Register" => |p| &mut p.energy_kwh,
        _ => return false,
    };
    let index = match meter.phases.iter().position(|p| p.phase == name) {
        Some(i) => i,
        None => {
            meter.phases.push(PhaseReading {
                phase: name.to_owned(),
                ..Default::default()
            });
            meter.phases.len() - 1
        }
    };
    if let Some(p) = meter.phases.get_mut(index) {
        *slot(p) = Some(value);
    }
    true
}
