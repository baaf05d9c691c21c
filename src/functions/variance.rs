//! The moments of Hive's variance family: count, sum, and n times the variance, updated per
//! row and merged as Hive's `GenericUDAFVariance` does (Chan, Golub and LeVeque).

use datafusion::arrow::array::Float64Array;
use datafusion::common::ScalarValue;

use super::moments::{MomentKind, MomentState, state_value};

#[derive(Debug, Clone)]
pub struct VarianceState {
    kind: MomentKind,
    count: i64,
    sum: f64,
    /// n times the variance.
    variance: f64,
}

impl MomentState for VarianceState {
    fn new(kind: MomentKind) -> Self {
        VarianceState {
            kind,
            count: 0,
            sum: 0.0,
            variance: 0.0,
        }
    }

    fn iterate(&mut self, x: f64, _y: f64) {
        self.count += 1;
        self.sum += x;
        if self.count > 1 {
            let count = self.count as f64;
            let t = count * x - self.sum;
            self.variance += (t * t) / (count * (count - 1.0));
        }
    }

    fn result(&self) -> Option<f64> {
        let count = self.count as f64;
        match self.kind {
            MomentKind::VarianceSample | MomentKind::StddevSample if self.count <= 1 => None,
            _ if self.count == 0 => None,
            MomentKind::VariancePopulation => Some(self.variance / count),
            MomentKind::StddevPopulation => Some((self.variance / count).sqrt()),
            MomentKind::VarianceSample => Some(self.variance / (count - 1.0)),
            MomentKind::StddevSample => Some((self.variance / (count - 1.0)).sqrt()),
            _ => None,
        }
    }

    fn state_names() -> &'static [&'static str] {
        &["count", "sum", "variance"]
    }

    fn state(&self) -> Vec<ScalarValue> {
        vec![
            ScalarValue::Int64(Some(self.count)),
            ScalarValue::Float64(Some(self.sum)),
            ScalarValue::Float64(Some(self.variance)),
        ]
    }

    fn merge_row(&mut self, states: &[&Float64Array], count: i64, row: usize) {
        let value = |column: usize| state_value(states, column, row);
        let (sum, variance) = (value(0), value(1));
        if self.count == 0 {
            self.count = count;
            self.sum = sum;
            self.variance = variance;
            return;
        }
        let (partial, merged) = (count as f64, self.count as f64);
        let t = (partial / merged) * self.sum - sum;
        self.variance += variance + ((merged / partial) / (merged + partial)) * t * t;
        self.count += count;
        self.sum += sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(kind: MomentKind, values: &[f64]) -> Option<f64> {
        let mut state = VarianceState::new(kind);
        for v in values {
            state.iterate(*v, 0.0);
        }
        state.result()
    }

    #[test]
    fn last_digits_are_hives() {
        // Hive's windowing.q golden output for this frame of p_retailprice.
        let prices = [1173.15, 1173.15, 1753.76];
        assert_eq!(
            of(MomentKind::VariancePopulation, &prices),
            Some(74912.8826888888)
        );
        assert_eq!(
            of(MomentKind::StddevPopulation, &prices),
            Some(273.70217881648074)
        );
    }

    #[test]
    fn sample_of_one_row_is_null_population_is_zero() {
        assert_eq!(of(MomentKind::VarianceSample, &[3.0]), None);
        assert_eq!(of(MomentKind::VariancePopulation, &[3.0]), Some(0.0));
        assert_eq!(of(MomentKind::StddevPopulation, &[]), None);
    }

    #[test]
    fn merged_partials_agree_with_one_pass() {
        let values = [1.0, 4.0, 9.0, 16.0, 25.0];
        let mut left = VarianceState::new(MomentKind::VariancePopulation);
        for v in &values[..2] {
            left.iterate(*v, 0.0);
        }
        let mut right = VarianceState::new(MomentKind::VariancePopulation);
        for v in &values[2..] {
            right.iterate(*v, 0.0);
        }
        let sums = Float64Array::from(vec![right.sum]);
        let variances = Float64Array::from(vec![right.variance]);
        left.merge_row(&[&sums, &variances], right.count, 0);
        let one_pass = of(MomentKind::VariancePopulation, &values).unwrap_or_default();
        assert!((left.result().unwrap_or_default() - one_pass).abs() < 1e-9);
    }
}
