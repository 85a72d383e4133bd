//! Functions that grow without bound: `square`, `power`, `fibonacci`, `exponential`. Each
//! restarts when it leaves f64.

use crate::functions::{
    index_factory_with, param_error, prototype_factory, Finite, Generator, ParamDoc, Registry, Step,
};

/// Registers `square`, `power`, `fibonacci` and `exponential`.
pub(super) fn register(r: &mut Registry) {
    let square = |i: u64| {
        let x = i as f64;
        x * x
    };
    r.register("square", "i²: 1, 4, 9, 16, …", &[], move |_| Ok(index_factory_with(square, Finite::Monotone)));
    let power = |i: u64| {
        let x = i as f64;
        x.powf(x)
    };
    r.register("power", "iⁱ: 1, 4, 27, 256, … (restarts after 143 values, past f64)", &[], move |_| {
        Ok(index_factory_with(power, Finite::Monotone))
    });
    r.register(
        "fibonacci",
        "Fibonacci numbers: 1, 1, 2, 3, 5, 8, … (restarts after 1476 values, past f64)",
        &[],
        |_| Ok(prototype_factory(Fibonacci { a: 1.0, b: 1.0 })),
    );
    r.register(
        "exponential",
        "baseⁱ: 2, 4, 8, 16, … for base 2",
        &[ParamDoc { name: "base", doc: "number > 0, default 2" }],
        |p| {
            let base = p.f64("base", 2.0)?;
            if base <= 0.0 {
                return Err(param_error("base", "must be a finite number > 0"));
            }
            Ok(index_factory_with(move |i| base.powf(i as f64), Finite::Monotone))
        },
    );
}

/// Fibonacci numbers in f64: exact up to 2⁵³, then the nearest float, until they overflow.
#[derive(Clone)]
struct Fibonacci {
    a: f64,
    b: f64,
}

impl Generator for Fibonacci {
    fn next(&mut self, _: Step) -> Option<f64> {
        let v = self.a;
        (self.a, self.b) = (self.b, self.a + self.b);
        Some(v)
    }

    // No jump: a closed form would round differently from the additions. The sequence restarts
    // after 1476 values, and a fast-forward jumps over whole periods of it.
    fn reads_n(&self) -> bool {
        false
    }
}
