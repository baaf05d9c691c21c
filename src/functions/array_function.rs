//! A Hive scalar function given as plain Rust functions: how its argument types coerce and
//! how a batch of arguments becomes a result array. Each function of the library is then
//! its semantics alone, without repeating DataFusion's UDF plumbing.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug)]
pub struct ArrayFunction {
    name: &'static str,
    signature: Signature,
    /// The result type, from the coerced argument types.
    return_type: ReturnType,
    /// The types the arguments are cast to, from their types (or an error for a bad call).
    coerce: fn(&[DataType]) -> Result<Vec<DataType>>,
    /// The result for `rows` rows of arguments, already of the coerced types.
    evaluate: fn(&[ArrayRef], usize) -> Result<ArrayRef>,
}

#[derive(Debug)]
enum ReturnType {
    Fixed(DataType),
    Derived(fn(&[DataType]) -> Result<DataType>),
}

impl ArrayFunction {
    /// A function whose result is always of type `return_type`.
    pub fn udf(
        name: &'static str,
        return_type: DataType,
        coerce: fn(&[DataType]) -> Result<Vec<DataType>>,
        evaluate: fn(&[ArrayRef], usize) -> Result<ArrayRef>,
    ) -> ScalarUDF {
        Self::build(name, ReturnType::Fixed(return_type), coerce, evaluate)
    }

    /// A function whose result type follows its (coerced) argument types.
    pub fn udf_with_return_type(
        name: &'static str,
        return_type: fn(&[DataType]) -> Result<DataType>,
        coerce: fn(&[DataType]) -> Result<Vec<DataType>>,
        evaluate: fn(&[ArrayRef], usize) -> Result<ArrayRef>,
    ) -> ScalarUDF {
        Self::build(name, ReturnType::Derived(return_type), coerce, evaluate)
    }

    fn build(
        name: &'static str,
        return_type: ReturnType,
        coerce: fn(&[DataType]) -> Result<Vec<DataType>>,
        evaluate: fn(&[ArrayRef], usize) -> Result<ArrayRef>,
    ) -> ScalarUDF {
        ScalarUDF::new_from_impl(ArrayFunction {
            name,
            signature: Signature::user_defined(Volatility::Immutable),
            return_type,
            coerce,
            evaluate,
        })
    }
}

/// Functions are told apart by name: there is one of each.
impl PartialEq for ArrayFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for ArrayFunction {}

impl Hash for ArrayFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for ArrayFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &self.return_type {
            ReturnType::Fixed(data_type) => Ok(data_type.clone()),
            ReturnType::Derived(derive) => derive(arg_types),
        }
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        (self.coerce)(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|arg| arg.to_array(rows))
            .collect::<Result<_>>()?;
        Ok(ColumnarValue::Array(Arc::new((self.evaluate)(
            &arrays, rows,
        )?)))
    }
}
