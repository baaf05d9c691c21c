//! Hive's `histogram_numeric(x, b)`: an approximate histogram of `x` with at most `b` bins,
//! as an array of `{x, y}` structs (bin centre, height) ordered by `x`. It is Hive's
//! streaming algorithm (Ben-Haim and Tom-Tov) step for step, so that its answers are Hive's:
//! each value joins the bin of the same centre or becomes a bin of its own, and while there
//! are too many bins the two closest merge into their weighted mean. Equally close pairs are
//! chosen with Java's `Random` seeded as Hive seeds it (31183).
//!
//! Written by hand: no crate implements this histogram.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::cast::as_float64_array;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;

pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(HistogramNumeric {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct HistogramNumeric {
    signature: Signature,
}

fn bin_fields() -> Fields {
    Fields::from(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ])
}

fn result_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(
        DataType::Struct(bin_fields()),
        true,
    )))
}

impl AggregateUDFImpl for HistogramNumeric {
    fn name(&self) -> &str {
        "histogram_numeric"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [value, bins] if (value.is_numeric() || value.is_null()) && bins.is_integer() => {
                Ok(vec![DataType::Float64, DataType::Int64])
            }
            _ => exec_err!("histogram_numeric takes a number and a constant number of bins"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(result_type())
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Histogram::new(max_bins(&args)?)))
    }

    /// Over a sliding window frame the histogram is rebuilt from the frame's values, as
    /// Hive computes it for each frame: a streaming histogram cannot forget a value.
    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(FrameHistogram {
            max_bins: max_bins(&args)?,
            values: std::collections::VecDeque::new(),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = |name: &str| {
            Arc::new(Field::new(
                format!("{}[{name}]", args.name),
                DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
                true,
            ))
        };
        Ok(vec![list("x"), list("y")])
    }
}

/// The bin count, a constant second argument of at least 2.
fn max_bins(args: &AccumulatorArgs) -> Result<usize> {
    let bins = args
        .exprs
        .get(1)
        .and_then(|e| e.downcast_ref::<Literal>())
        .and_then(|l| match l.value() {
            ScalarValue::Int64(Some(n)) => usize::try_from(*n).ok(),
            _ => None,
        })
        .filter(|n| *n >= 2);
    match bins {
        Some(bins) => Ok(bins),
        None => exec_err!("histogram_numeric needs a constant number of bins, at least 2"),
    }
}

/// Java's `java.util.Random`, for the choices Hive makes with it.
#[derive(Debug)]
struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    fn new(seed: u64) -> Self {
        JavaRandom {
            seed: (seed ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next(&mut self, bits: u32) -> u64 {
        self.seed = (self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB)) & Self::MASK;
        self.seed >> (48 - bits)
    }

    fn next_double(&mut self) -> f64 {
        ((self.next(26) << 27) + self.next(27)) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Hive seeds each histogram's random generator so.
const SEED: u64 = 31183;

#[derive(Debug)]
struct Histogram {
    max_bins: usize,
    /// (centre, height), ordered by centre.
    bins: Vec<(f64, f64)>,
    random: JavaRandom,
}

impl Histogram {
    fn new(max_bins: usize) -> Self {
        Histogram {
            max_bins,
            bins: Vec::new(),
            random: JavaRandom::new(SEED),
        }
    }

    fn add(&mut self, value: f64) {
        let at = self.bins.partition_point(|(x, _)| *x < value);
        match self.bins.get_mut(at) {
            Some((x, height)) if *x == value => *height += 1.0,
            _ => {
                self.bins.insert(at, (value, 1.0));
                self.trim();
            }
        }
    }

    /// Merges the closest bins until at most `max_bins` remain.
    fn trim(&mut self) {
        while self.bins.len() > self.max_bins {
            let mut smallest = self.bins[1].0 - self.bins[0].0;
            let mut at = 0;
            let mut ties = 1u32;
            for i in 1..self.bins.len() - 1 {
                let diff = self.bins[i + 1].0 - self.bins[i].0;
                if diff < smallest {
                    smallest = diff;
                    at = i;
                    ties = 1;
                } else if diff == smallest {
                    ties += 1;
                    if self.random.next_double() <= 1.0 / f64::from(ties) {
                        at = i;
                    }
                }
            }
            let (x1, y1) = self.bins[at];
            let (x2, y2) = self.bins.remove(at + 1);
            let height = y1 + y2;
            let mut centre = x1 * (y1 / height);
            centre += x2 / height * y2;
            self.bins[at] = (centre, height);
        }
    }

    /// Another histogram's bins joined to these, as Hive merges partial histograms.
    fn merge(&mut self, bins: &[(f64, f64)]) {
        if bins.is_empty() {
            return;
        }
        self.bins.extend_from_slice(bins);
        self.bins.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.trim();
    }
}

fn float_list(values: impl Iterator<Item = f64>) -> ScalarValue {
    let values: Vec<ScalarValue> = values.map(|v| ScalarValue::Float64(Some(v))).collect();
    ScalarValue::List(ScalarValue::new_list_nullable(&values, &DataType::Float64))
}

impl Accumulator for Histogram {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let values = as_float64_array(&values[0])?;
        for value in values.iter().flatten() {
            self.add(value);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.bins.is_empty() {
            return ScalarValue::try_from(&result_type());
        }
        let xs = Float64Array::from_iter_values(self.bins.iter().map(|(x, _)| *x));
        let ys = Float64Array::from_iter_values(self.bins.iter().map(|(_, y)| *y));
        let structs = StructArray::try_new(
            bin_fields(),
            vec![Arc::new(xs) as ArrayRef, Arc::new(ys) as ArrayRef],
            None,
        )?;
        let list = ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Struct(bin_fields()), true)),
            OffsetBuffer::from_lengths([self.bins.len()]),
            Arc::new(structs),
            None,
        )?;
        Ok(ScalarValue::List(Arc::new(list)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.bins.capacity() * std::mem::size_of::<(f64, f64)>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            float_list(self.bins.iter().map(|(x, _)| *x)),
            float_list(self.bins.iter().map(|(_, y)| *y)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (xs, ys) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for row in 0..xs.len() {
            if xs.is_null(row) || ys.is_null(row) {
                continue;
            }
            let (x, y) = (xs.value(row), ys.value(row));
            let (x, y) = (
                x.as_primitive::<Float64Type>(),
                y.as_primitive::<Float64Type>(),
            );
            let bins: Vec<(f64, f64)> = x
                .values()
                .iter()
                .copied()
                .zip(y.values().iter().copied())
                .collect();
            self.merge(&bins);
        }
        Ok(())
    }
}

/// The histogram of a sliding window frame: the frame's values, in order.
#[derive(Debug)]
struct FrameHistogram {
    max_bins: usize,
    values: std::collections::VecDeque<Option<f64>>,
}

impl Accumulator for FrameHistogram {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.values.extend(as_float64_array(&values[0])?.iter());
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for _ in 0..values[0].len() {
            self.values.pop_front();
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut histogram = Histogram::new(self.max_bins);
        for value in self.values.iter().flatten() {
            histogram.add(*value);
        }
        histogram.evaluate()
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.capacity() * std::mem::size_of::<Option<f64>>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut histogram = Histogram::new(self.max_bins);
        for value in self.values.iter().flatten() {
            histogram.add(*value);
        }
        histogram.state()
    }

    fn merge_batch(&mut self, _states: &[ArrayRef]) -> Result<()> {
        exec_err!("histogram_numeric over a window frame does not merge partial results")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_random_matches_java() {
        // new java.util.Random(42).nextDouble()
        let mut random = JavaRandom::new(42);
        assert!((random.next_double() - 0.7275636800328681).abs() < 1e-16);
    }

    #[test]
    fn closest_bins_merge_into_their_weighted_mean() {
        let mut histogram = Histogram::new(2);
        for value in [1.0, 2.0, 10.0, 2.0] {
            histogram.add(value);
        }
        // 1 and 2 merged into 1.5 (height 2); the second 2 then joined the nearer bin.
        assert_eq!(histogram.bins.len(), 2);
        assert_eq!(histogram.bins[1], (10.0, 1.0));
        assert!((histogram.bins[0].0 - 5.0 / 3.0).abs() < 1e-12);
        assert_eq!(histogram.bins[0].1, 3.0);
    }
}
