//! What Apiary's operators of one input share: taking that input out of the list a
//! `with_new_children` (or `with_exprs_and_inputs`) receives.

use datafusion::common::internal_err;
use datafusion::error::Result;

/// The one element of `inputs`, or an internal error naming `operator` when there are none or
/// several.
pub fn only_input<T>(mut inputs: Vec<T>, operator: &str) -> Result<T> {
    match (inputs.pop(), inputs.is_empty()) {
        (Some(input), true) => Ok(input),
        _ => internal_err!("{operator} takes one input"),
    }
}

#[cfg(test)]
mod tests {
    use super::only_input;

    #[test]
    fn exactly_one_input_is_taken() {
        assert_eq!(only_input(vec![7], "Op").unwrap(), 7);
        let none = only_input(Vec::<i32>::new(), "Op").unwrap_err().to_string();
        assert!(none.contains("Op takes one input"), "{none}");
        assert!(only_input(vec![1, 2], "Op").is_err());
    }
}
