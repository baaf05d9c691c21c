//! The moments of Hive's `covar_pop`, `covar_samp` and `corr`: count, both means, and n times
//! the variances and the covariance, updated per row and merged as Hive's
//! `GenericUDAFCovariance` / `GenericUDAFCorrelation` do. `covar_*(x, y)` update with x's
//! step, `corr(y, x)` with its second argument's, so the state's "first" is that one.

use datafusion::arrow::array::Float64Array;
use datafusion::common::ScalarValue;

use super::moments::{MomentKind, MomentState, state_value};

#[derive(Debug, Clone)]
pub struct CovarianceState {
    kind: MomentKind,
    count: i64,
    /// Means of the first and second argument.
    first_mean: f64,
    second_mean: f64,
    /// n times the variances of the first and second argument.
    first_variance: f64,
    second_variance: f64,
    /// n times the covariance.
    covariance: f64,
}

impl MomentState for CovarianceState {
    fn new(kind: MomentKind) -> Self {
        CovarianceState {
            kind,
            count: 0,
            first_mean: 0.0,
            second_mean: 0.0,
            first_variance: 0.0,
            second_variance: 0.0,
            covariance: 0.0,
        }
    }

    fn iterate(&mut self, x: f64, y: f64) {
        let (first, second) = if self.kind == MomentKind::Correlation {
            (y, x)
        } else {
            (x, y)
        };
        let first_delta = first - self.first_mean;
        let second_delta = second - self.second_mean;
        self.count += 1;
        let count = self.count as f64;
        self.first_mean += first_delta / count;
        self.second_mean += second_delta / count;
        if self.count > 1 {
            self.covariance += first_delta * (second - self.second_mean);
            self.first_variance += first_delta * (first - self.first_mean);
            self.second_variance += second_delta * (second - self.second_mean);
        }
    }

    fn result(&self) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let count = self.count as f64;
        match self.kind {
            MomentKind::CovariancePopulation => Some(self.covariance / count),
            MomentKind::CovarianceSample if self.count > 1 => Some(self.covariance / (count - 1.0)),
            MomentKind::CovarianceSample => Some(0.0),
            MomentKind::Correlation
                if self.first_variance != 0.0 && self.second_variance != 0.0 =>
            {
                Some(self.covariance / self.second_variance.sqrt() / self.first_variance.sqrt())
            }
            _ => None,
        }
    }

    fn state_names() -> &'static [&'static str] {
        &[
            "count",
            "first_mean",
            "second_mean",
            "first_variance",
            "second_variance",
            "covariance",
        ]
    }

    fn state(&self) -> Vec<ScalarValue> {
        let double = |v: f64| ScalarValue::Float64(Some(v));
        vec![
            ScalarValue::Int64(Some(self.count)),
            double(self.first_mean),
            double(self.second_mean),
            double(self.first_variance),
            double(self.second_variance),
            double(self.covariance),
        ]
    }

    fn merge_row(&mut self, states: &[&Float64Array], count: i64, row: usize) {
        let value = |column: usize| state_value(states, column, row);
        let partial = CovarianceState {
            kind: self.kind,
            count,
            first_mean: value(0),
            second_mean: value(1),
            first_variance: value(2),
            second_variance: value(3),
            covariance: value(4),
        };
        if self.count == 0 {
            *self = partial;
            return;
        }
        let (n_a, n_b) = (self.count, partial.count);
        self.count += n_b;
        let total = self.count as f64;
        let first_gap = self.first_mean - partial.first_mean;
        let second_gap = self.second_mean - partial.second_mean;
        self.first_mean = (self.first_mean * n_a as f64 + partial.first_mean * n_b as f64) / total;
        self.second_mean =
            (self.second_mean * n_a as f64 + partial.second_mean * n_b as f64) / total;
        self.first_variance +=
            partial.first_variance + first_gap * first_gap * n_a as f64 * n_b as f64 / total;
        self.second_variance +=
            partial.second_variance + second_gap * second_gap * n_a as f64 * n_b as f64 / total;
        self.covariance +=
            partial.covariance + first_gap * second_gap * ((n_a * n_b) as f64 / total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_digits_are_hives() {
        // Hive's windowing.q golden output: covar_pop(p_size, p_retailprice) over one frame.
        let mut state = CovarianceState::new(MomentKind::CovariancePopulation);
        for (size, price) in [(6.0, 1602.59), (28.0, 1414.42), (42.0, 1632.66)] {
            state.iterate(size, price);
        }
        assert_eq!(state.result(), Some(-0.20666666666708502));
    }

    #[test]
    fn correlation_of_a_line_is_one_and_of_a_constant_null() {
        let mut line = CovarianceState::new(MomentKind::Correlation);
        let mut constant = CovarianceState::new(MomentKind::Correlation);
        for x in [1.0, 2.0, 3.0] {
            line.iterate(2.0 * x + 1.0, x);
            constant.iterate(5.0, x);
        }
        assert!((line.result().unwrap_or_default() - 1.0).abs() < 1e-12);
        assert_eq!(constant.result(), None);
    }
}
