//! Hive's `sum` and `avg` of DOUBLEs add the values one by one, in row order; DataFusion's
//! ungrouped accumulators add a batch in SIMD lanes, whose last digits differ. Over a sliding
//! window frame Hive keeps the running sum of the partition's rows and answers each frame as
//! the running sum at its last row minus the running sum before its first. [`RunningSum`]
//! does both: the rows that entered and the rows that left the frame are summed in order.
//!
//! Its partial state has DataFusion's layout for the aggregate it stands in for (`avg`: the
//! count, then the sum; `sum`: the sum), so it mixes with DataFusion's grouped accumulators.

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::common::cast::{as_float64_array, as_uint64_array};
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::logical_expr::Accumulator;

/// Running sums of the rows that entered the frame and of those that left it.
#[derive(Debug, Default)]
pub struct RunningSum {
    average: bool,
    entered: f64,
    entered_count: u64,
    left: f64,
    left_count: u64,
}

impl RunningSum {
    pub fn new(average: bool) -> Self {
        RunningSum {
            average,
            ..Default::default()
        }
    }

    fn count(&self) -> u64 {
        self.entered_count.saturating_sub(self.left_count)
    }

    fn sum(&self) -> Option<f64> {
        (self.count() > 0).then_some(self.entered - self.left)
    }
}

/// Adds the batch's non-NULL values, in row order, to `sum` and `count`.
fn add(values: &[ArrayRef], sum: &mut f64, count: &mut u64) -> Result<()> {
    let Some(values) = values.first() else {
        return internal_err!("sum without an argument");
    };
    for value in as_float64_array(values)?.iter().flatten() {
        *sum += value;
        *count += 1;
    }
    Ok(())
}

impl Accumulator for RunningSum {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        add(values, &mut self.entered, &mut self.entered_count)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        add(values, &mut self.left, &mut self.left_count)
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let value = match self.sum() {
            Some(sum) if self.average => Some(sum / self.count() as f64),
            sum => sum,
        };
        Ok(ScalarValue::Float64(value))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let sum = ScalarValue::Float64(self.sum());
        Ok(if self.average {
            vec![ScalarValue::UInt64(Some(self.count())), sum]
        } else {
            vec![sum]
        })
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (counts, sums) = match states {
            [counts, sums] if self.average => (Some(as_uint64_array(counts)?), sums),
            [sums] if !self.average => (None, sums),
            _ => return internal_err!("unexpected partial state of a running sum"),
        };
        let sums = as_float64_array(sums)?;
        for row in 0..sums.len() {
            if sums.is_null(row) {
                continue;
            }
            self.entered += sums.value(row);
            self.entered_count += counts.map_or(1, |c| c.value(row));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Float64Array;

    use super::*;

    fn batch(values: &[f64]) -> Vec<ArrayRef> {
        vec![Arc::new(Float64Array::from(values.to_vec())) as ArrayRef]
    }

    #[test]
    fn a_frame_is_the_difference_of_running_sums() {
        // Hive's windowing.q: avg(p_retailprice) over rows 2 preceding .. 2 following.
        let mut avg = RunningSum::new(true);
        avg.update_batch(&batch(&[1690.68, 1800.7, 2031.98, 1698.66, 1701.6]))
            .unwrap();
        avg.retract_batch(&batch(&[1690.68])).unwrap();
        assert_eq!(
            avg.evaluate().unwrap(),
            ScalarValue::Float64(Some(1808.2350000000001))
        );
    }

    #[test]
    fn an_empty_frame_is_null() {
        let mut sum = RunningSum::new(false);
        sum.update_batch(&batch(&[1.5])).unwrap();
        sum.retract_batch(&batch(&[1.5])).unwrap();
        assert_eq!(sum.evaluate().unwrap(), ScalarValue::Float64(None));
    }

    #[test]
    fn partial_states_merge_in_order() {
        let mut partial = RunningSum::new(true);
        partial.update_batch(&batch(&[0.1, 0.2])).unwrap();
        let state: Vec<ArrayRef> = partial
            .state()
            .unwrap()
            .iter()
            .map(|v| v.to_array().unwrap())
            .collect();
        let mut total = RunningSum::new(true);
        total.merge_batch(&state).unwrap();
        total.update_batch(&batch(&[0.3])).unwrap();
        assert_eq!(
            total.evaluate().unwrap(),
            ScalarValue::Float64(Some((0.1 + 0.2 + 0.3) / 3.0))
        );
    }
}
