//! The built-in functions, one file per family; each file registers its own.

mod formula;
mod growth;
mod random;
mod shapes;

use super::Registry;

/// Registers every built-in function.
pub(super) fn register_all(r: &mut Registry) {
    growth::register(r);
    shapes::register(r);
    random::register(r);
    formula::register(r);
}
