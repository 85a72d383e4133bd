//! `expr`: a user's formula of `i` and `n` in the expression language.

use crate::expr::Expr;
use crate::functions::{param_error, prototype_factory, Generator, ParamDoc, Registry, Step};
use std::ops::RangeInclusive;
use std::sync::Arc;

/// Registers `expr`.
pub(super) fn register(r: &mut Registry) {
    r.register(
        "expr",
        "a formula of i (position in the cycle) and n (tick since start), e.g. \"i*i + 3\"",
        &[ParamDoc { name: "expr", doc: "expression text, required (see docs/functions.md, Expression language)" }],
        |p| {
            let src = p.string("expr")?;
            let expr = Expr::parse(src).map_err(|e| param_error("expr", &e.render(src)))?;
            Ok(prototype_factory(Formula(Arc::new(expr))))
        },
    );
}

/// A user's expression, evaluated at `(i, n)`; shared, as it never changes once parsed.
#[derive(Clone)]
struct Formula(Arc<Expr>);

impl Generator for Formula {
    fn next(&mut self, step: Step) -> Option<f64> {
        Some(self.0.eval(step.i as f64, step.n as f64))
    }

    /// Proven by interval arithmetic over the whole box of positions and ticks.
    fn finite_over(&self, positions: RangeInclusive<u64>, ticks: RangeInclusive<u64>) -> bool {
        let i = (*positions.start() as f64, *positions.end() as f64);
        let n = (*ticks.start() as f64, *ticks.end() as f64);
        self.0.finite_over(i, n)
    }

    fn skip(&mut self, from: Step, count: u64) -> Option<f64> {
        self.next(Step { i: from.i + (count - 1), n: from.n + (count - 1) })
    }

    fn reads_n(&self) -> bool {
        self.0.uses_n()
    }
}
