//! Hive's `sum` and `avg` of DOUBLEs over a sliding window frame: Hive keeps the running sum
//! of the partition's rows and answers each frame as the running sum at its last row minus
//! the running sum before its first row. The digits of that difference are Hive's, and differ
//! from summing the frame's rows anew or retracting them one by one.

use datafusion::arrow::array::ArrayRef;
use datafusion::common::cast::as_float64_array;
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::logical_expr::Accumulator;

/// Running sums of the rows that entered the frame and of those that left it.
#[derive(Debug, Default)]
pub struct PrefixSum {
    average: bool,
    entered: f64,
    entered_count: i64,
    left: f64,
    left_count: i64,
}

impl PrefixSum {
    pub fn new(average: bool) -> Self {
        PrefixSum {
            average,
            ..Default::default()
        }
    }
}

/// Adds the batch's non-NULL values, in row order, to `sum` and `count`.
fn add(values: &[ArrayRef], sum: &mut f64, count: &mut i64) -> Result<()> {
    let Some(values) = values.first() else {
        return internal_err!("sum without an argument");
    };
    for value in as_float64_array(values)?.iter().flatten() {
        *sum += value;
        *count += 1;
    }
    Ok(())
}

impl Accumulator for PrefixSum {
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
        let count = self.entered_count - self.left_count;
        if count == 0 {
            return Ok(ScalarValue::Float64(None));
        }
        let sum = self.entered - self.left;
        Ok(ScalarValue::Float64(Some(if self.average {
            sum / count as f64
        } else {
            sum
        })))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        internal_err!("a window frame's sum has no partial state")
    }

    fn merge_batch(&mut self, _states: &[ArrayRef]) -> Result<()> {
        internal_err!("a window frame's sum does not merge partial results")
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
        let mut avg = PrefixSum::new(true);
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
        let mut sum = PrefixSum::new(false);
        sum.update_batch(&batch(&[1.5])).unwrap();
        sum.retract_batch(&batch(&[1.5])).unwrap();
        assert_eq!(sum.evaluate().unwrap(), ScalarValue::Float64(None));
    }
}
