//! DataFusion's `sum` and `avg`, as Hive computes them. Hive reads a string argument as a
//! DOUBLE (NULL when it is not a number), where DataFusion's aggregates refuse strings; and
//! Hive adds DOUBLEs one by one, answering a sliding window frame from running sums
//! (`running_sum`). So each is wrapped: strings are coerced to DOUBLE, then the wrapped
//! aggregate's own coercion applies; ungrouped DOUBLE sums and frames take the running sums
//! (grouped ones are DataFusion's, which add row by row too); everything else is the wrapped
//! aggregate's.

use std::sync::Arc;

use super::running_sum::RunningSum;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::expr::{AggregateFunctionParams, WindowFunctionParams};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, GroupsAccumulator, ReversedUDAF, Signature,
    Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HiveNumericAggregate {
    inner: Arc<AggregateUDF>,
    signature: Signature,
}

impl HiveNumericAggregate {
    pub fn wrap(inner: Arc<AggregateUDF>) -> AggregateUDF {
        AggregateUDF::new_from_impl(HiveNumericAggregate {
            inner,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

impl HiveNumericAggregate {
    /// Hive's sequential sum, for a `sum` or `avg` (not DISTINCT) of DOUBLEs.
    fn running_sum(&self, args: &AccumulatorArgs) -> Option<RunningSum> {
        let doubles = matches!(args.expr_fields, [field] if field.data_type() == &DataType::Float64)
            && args.return_field.data_type() == &DataType::Float64;
        let average = match self.inner.name() {
            "sum" => false,
            "avg" => true,
            _ => return None,
        };
        (doubles && !args.is_distinct).then(|| RunningSum::new(average))
    }
}

impl AggregateUDFImpl for HiveNumericAggregate {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let fields: Vec<FieldRef> = arg_types
            .iter()
            .map(|t| {
                let t = match t {
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Float64,
                    other => other.clone(),
                };
                Arc::new(Field::new("arg", t, true))
            })
            .collect();
        Ok(fields_with_udf(&fields, self.inner.as_ref())?
            .iter()
            .map(|f| f.data_type().clone())
            .collect())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        self.inner.return_field(arg_fields)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        match self.running_sum(&args) {
            Some(running) => Ok(Box::new(running)),
            None => self.inner.accumulator(args),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        self.inner.create_groups_accumulator(args)
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        match self.running_sum(&args) {
            Some(running) => Ok(Box::new(running)),
            None => self.inner.inner().create_sliding_accumulator(args),
        }
    }

    fn schema_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.inner().schema_name(params)
    }

    fn display_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.inner().display_name(params)
    }

    fn window_function_schema_name(&self, params: &WindowFunctionParams) -> Result<String> {
        self.inner.inner().window_function_schema_name(params)
    }

    fn window_function_display_name(&self, params: &WindowFunctionParams) -> Result<String> {
        self.inner.inner().window_function_display_name(params)
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.inner().order_sensitivity()
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        self.inner.reverse_udf()
    }

    fn is_nullable(&self) -> bool {
        self.inner.is_nullable()
    }

    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        self.inner.default_value(data_type)
    }
}
