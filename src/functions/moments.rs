//! Hive's statistical aggregates — the variance family (`variance`, `var_pop`, `var_samp`,
//! `stddev`, `std`, `stddev_pop`, `stddev_samp`), `covar_pop`, `covar_samp` and `corr` —
//! computed with Hive's own update and merge formulas, so that their last digits are Hive's.
//! DataFusion's versions use other (equally sound) recurrences, whose rounding differs.
//!
//! Each aggregate keeps a running [`MomentState`]. Over a sliding window frame Hive computes
//! every frame from scratch, in row order; the sliding accumulator does the same from the
//! frame's rows, because a running sum of squares cannot forget a row exactly.
//!
//! Written by hand: the formulas are Hive's, no crate has them.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::cast::as_float64_array;
use datafusion::common::{Result, ScalarValue, internal_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::{AggregateOrderSensitivity, format_state_name};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ReversedUDAF, Signature, Volatility,
};

use super::covariance::CovarianceState;
use super::variance::VarianceState;

/// What one aggregate of the family returns from its moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MomentKind {
    VariancePopulation,
    VarianceSample,
    StddevPopulation,
    StddevSample,
    CovariancePopulation,
    CovarianceSample,
    Correlation,
}

impl MomentKind {
    /// `(name, aliases)` as Hive names them.
    fn names(self) -> (&'static str, &'static [&'static str]) {
        match self {
            MomentKind::VariancePopulation => ("var_pop", &["variance"]),
            MomentKind::VarianceSample => ("var_samp", &[]),
            MomentKind::StddevPopulation => ("stddev_pop", &["stddev", "std"]),
            MomentKind::StddevSample => ("stddev_samp", &[]),
            MomentKind::CovariancePopulation => ("covar_pop", &[]),
            MomentKind::CovarianceSample => ("covar_samp", &[]),
            MomentKind::Correlation => ("corr", &[]),
        }
    }

    fn arity(self) -> usize {
        match self {
            MomentKind::VariancePopulation
            | MomentKind::VarianceSample
            | MomentKind::StddevPopulation
            | MomentKind::StddevSample => 1,
            _ => 2,
        }
    }
}

/// The running moments of one aggregate: rows go in one at a time (NULL rows are skipped
/// before), partial states merge, and the kind picks the result.
pub trait MomentState: Debug + Clone + Send + Sync + 'static {
    fn new(kind: MomentKind) -> Self;
    /// One row; `y` is 0 for the one-argument aggregates.
    fn iterate(&mut self, x: f64, y: f64);
    fn result(&self) -> Option<f64>;
    /// The state's columns, in the order of [`MomentState::state`].
    fn state_names() -> &'static [&'static str];
    /// The count first (a BIGINT), then DOUBLEs.
    fn state(&self) -> Vec<ScalarValue>;
    /// Merges row `row` of the partial state columns.
    fn merge_row(&mut self, states: &[&Float64Array], count: i64, row: usize);
}

/// Row `row` of partial state column `column` (the DOUBLEs after the count); 0 when NULL.
pub fn state_value(states: &[&Float64Array], column: usize, row: usize) -> f64 {
    states
        .get(column)
        .filter(|c| c.is_valid(row))
        .map_or(0.0, |c| c.value(row))
}

/// Every aggregate of the family, for registration.
pub fn udafs() -> Vec<AggregateUDF> {
    [
        MomentKind::VariancePopulation,
        MomentKind::VarianceSample,
        MomentKind::StddevPopulation,
        MomentKind::StddevSample,
        MomentKind::CovariancePopulation,
        MomentKind::CovarianceSample,
        MomentKind::Correlation,
    ]
    .into_iter()
    .map(|kind| {
        let (name, aliases) = kind.names();
        AggregateUDF::new_from_impl(HiveMoment {
            kind,
            name,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            signature: Signature::user_defined(Volatility::Immutable),
        })
    })
    .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct HiveMoment {
    kind: MomentKind,
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
}

impl HiveMoment {
    fn is_variance(&self) -> bool {
        self.kind.arity() == 1
    }
}

impl AggregateUDFImpl for HiveMoment {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Numbers and DECIMALs are read as DOUBLE; the variance family reads strings as
    /// DOUBLE too (NULL when not a number), as Hive does.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != self.kind.arity() {
            return plan_err!(
                "{} takes {} argument(s), got {}",
                self.name,
                self.kind.arity(),
                arg_types.len()
            );
        }
        for (i, t) in arg_types.iter().enumerate() {
            let accepted = t.is_numeric() || t.is_null() || (self.is_variance() && t.is_string());
            if !accepted {
                return plan_err!(
                    "{} argument {} must be a number{}, got {t}",
                    self.name,
                    i + 1,
                    if self.is_variance() {
                        " or a string"
                    } else {
                        ""
                    }
                );
            }
        }
        Ok(vec![DataType::Float64; arg_types.len()])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn is_nullable(&self) -> bool {
        true
    }

    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(None))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let names = if self.is_variance() {
            VarianceState::state_names()
        } else {
            CovarianceState::state_names()
        };
        Ok(names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let data_type = if i == 0 {
                    DataType::Int64
                } else {
                    DataType::Float64
                };
                Arc::new(Field::new(
                    format_state_name(args.name, name),
                    data_type,
                    true,
                ))
            })
            .collect())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let arity = self.kind.arity();
        Ok(if self.is_variance() {
            Box::new(Running {
                state: VarianceState::new(self.kind),
                arity,
            })
        } else {
            Box::new(Running {
                state: CovarianceState::new(self.kind),
                arity,
            })
        })
    }

    fn create_sliding_accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let arity = self.kind.arity();
        Ok(if self.is_variance() {
            Box::new(Frame::new(VarianceState::new(self.kind), arity))
        } else {
            Box::new(Frame::new(CovarianceState::new(self.kind), arity))
        })
    }

    /// The result's last digits depend on the order rows arrive in; an ORDER BY (added by
    /// the optimizer, as Hive's shuffle orders rows) is followed where it can be.
    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::SoftRequirement
    }

    /// The same aggregate over reversed rows: equal but for the last digits. Declaring it
    /// lets DataFusion adopt the ORDER BY (it does not sort for a soft requirement of an
    /// aggregate that cannot be reversed).
    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }

    /// Rows are taken in the order they come, sorted or not.
    fn with_beneficial_ordering(
        self: Arc<Self>,
        _beneficial_ordering: bool,
    ) -> Result<Option<Arc<dyn AggregateUDFImpl>>> {
        Ok(Some(self))
    }
}

/// A batch's rows as `(x, y)`, `None` where an argument is NULL. The columns after the
/// arguments (ordering values) are not read.
fn rows(values: &[ArrayRef], arity: usize) -> Result<Vec<Option<(f64, f64)>>> {
    let Some(x) = values.first() else {
        return internal_err!("moment aggregate without arguments");
    };
    let x = as_float64_array(x)?;
    let y = match values.get(1).filter(|_| arity == 2) {
        Some(y) => Some(as_float64_array(y)?),
        None => None,
    };
    Ok((0..x.len())
        .map(|i| {
            let vx = x.is_valid(i).then(|| x.value(i))?;
            match y {
                Some(y) => y.is_valid(i).then(|| (vx, y.value(i))),
                None => Some((vx, 0.0)),
            }
        })
        .collect())
}

fn result_value(state: &impl MomentState) -> ScalarValue {
    ScalarValue::Float64(state.result())
}

/// Grouped aggregation and frames that grow from the partition start.
#[derive(Debug)]
struct Running<S> {
    state: S,
    arity: usize,
}

impl<S: MomentState> Accumulator for Running<S> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for (x, y) in rows(values, self.arity)?.into_iter().flatten() {
            self.state.iterate(x, y);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(result_value(&self.state))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self.state.state())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(counts) = states.first() else {
            return internal_err!("moment state without a count");
        };
        let counts = datafusion::common::cast::as_int64_array(counts)?;
        let doubles = states[1..]
            .iter()
            .map(|state| as_float64_array(state))
            .collect::<Result<Vec<_>>>()?;
        for row in 0..counts.len() {
            if counts.is_valid(row) && counts.value(row) > 0 {
                self.state.merge_row(&doubles, counts.value(row), row);
            }
        }
        Ok(())
    }
}

/// A sliding window frame: its rows are kept, and each result is computed over them afresh.
#[derive(Debug)]
struct Frame<S> {
    empty: S,
    arity: usize,
    rows: VecDeque<Option<(f64, f64)>>,
}

impl<S: MomentState> Frame<S> {
    fn new(empty: S, arity: usize) -> Self {
        Frame {
            empty,
            arity,
            rows: VecDeque::new(),
        }
    }

    fn moments(&self) -> S {
        let mut state = self.empty.clone();
        for (x, y) in self.rows.iter().flatten() {
            state.iterate(*x, *y);
        }
        state
    }
}

impl<S: MomentState> Accumulator for Frame<S> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.rows.extend(rows(values, self.arity)?);
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let expired = values.first().map_or(0, |v| v.len());
        self.rows.drain(..expired.min(self.rows.len()));
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(result_value(&self.moments()))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self.rows.capacity() * std::mem::size_of::<Option<(f64, f64)>>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self.moments().state())
    }

    fn merge_batch(&mut self, _states: &[ArrayRef]) -> Result<()> {
        internal_err!("a window frame's moments do not merge partial results")
    }
}
