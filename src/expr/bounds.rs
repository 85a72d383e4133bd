//! Proving an expression finite over a box of `(i, n)` by interval arithmetic, which lets a
//! sequence jump over values it does not need to compute (see [`super::Expr::finite_over`]).

use super::{Node, Op, FUNCS};

/// The closed interval `[lo, hi]` of values a sub-expression can take over a box of `(i, n)`.
pub(super) type Interval = (f64, f64);

/// The largest magnitude an interval may reach. Values computed at a point of the box stay
/// within the computed bounds for `+ − × ÷` (rounding to nearest is monotone) and within a few
/// units in the last place for the other functions, so nothing within this bound can overflow.
const BOUND: f64 = 1e300;

/// `[lo, hi]`, or `None` when it is not a finite interval within [`BOUND`] (NaN included).
fn interval(lo: f64, hi: f64) -> Option<Interval> {
    (lo <= hi && lo >= -BOUND && hi <= BOUND).then_some((lo, hi))
}

/// Widens an interval computed by a library function (`exp`, `ln`, `powf`, …), whose results
/// may be off by a few units in the last place and are not guaranteed monotone.
fn widened((lo, hi): Interval) -> Option<Interval> {
    const REL: f64 = 1e-12;
    const ABS: f64 = 1e-300;
    interval(lo - lo.abs() * REL - ABS, hi + hi.abs() * REL + ABS)
}

/// The interval spanned by `f` at the four corners of `a × b`: right for a function that is
/// monotone in each argument over the box.
fn corners(a: Interval, b: Interval, f: impl Fn(f64, f64) -> f64) -> Option<Interval> {
    let values = [f(a.0, b.0), f(a.0, b.1), f(a.1, b.0), f(a.1, b.1)];
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    interval(
        values.iter().copied().fold(f64::INFINITY, f64::min),
        values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// The values of a comparison or a logical operator on finite operands.
const BOOLEAN: Interval = (0.0, 1.0);

/// True when the interval does not contain zero.
fn excludes_zero(a: Interval) -> bool {
    a.0 > 0.0 || a.1 < 0.0
}

impl Op {
    fn range(self, a: Interval, b: Interval) -> Option<Interval> {
        match self {
            Op::Add => interval(a.0 + b.0, a.1 + b.1),
            Op::Sub => interval(a.0 - b.1, a.1 - b.0),
            Op::Mul => corners(a, b, |x, y| x * y),
            Op::Div if excludes_zero(b) => corners(a, b, |x, y| x / y),
            Op::Div => None,
            // `a % b` is exact, has the sign of `a`, and is smaller than both `|a|` and `|b|`.
            Op::Rem if excludes_zero(b) => {
                let m = b.0.abs().max(b.1.abs());
                interval(if a.0 >= 0.0 { 0.0 } else { a.0.max(-m) }, if a.1 <= 0.0 { 0.0 } else { a.1.min(m) })
            }
            Op::Rem => None,
            Op::Min => interval(a.0.min(b.0), a.1.min(b.1)),
            Op::Max => interval(a.0.max(b.0), a.1.max(b.1)),
            // Of finite operands (which is what having their intervals means), a comparison
            // or a logical operator gives 0 or 1. Narrower results (`n < 100` over n in
            // [1, 50] is always 1) are not worked out: not needed to prove finiteness.
            Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::Eq | Op::Ne | Op::And | Op::Or => Some(BOOLEAN),
        }
    }
}

/// The interval of `base ^ exp`.
fn pow_range(base: Interval, exp: Interval) -> Option<Interval> {
    let integer = (exp.0 == exp.1 && exp.0.fract() == 0.0 && exp.0.abs() <= 1e9).then_some(exp.0);
    match integer {
        Some(0.0) => Some((1.0, 1.0)),
        // xᵏ is monotone on each side of zero, and on the whole line for odd k > 0.
        Some(k) if excludes_zero(base) || (k > 0.0 && k % 2.0 == 1.0) => widened(corners(base, (k, k), f64::powf)?),
        // Even k > 0 over an interval around zero: from 0 to the larger end.
        Some(k) if k > 0.0 => widened((0.0, base.0.abs().max(base.1.abs()).powf(k))),
        Some(_) => None,
        // For x > 0 (or x ≥ 0 with y > 0), x^y is monotone in each argument: its extremes over
        // a box are at the corners.
        None if base.0 > 0.0 || (base.0 >= 0.0 && exp.0 > 0.0) => widened(corners(base, exp, f64::powf)?),
        None => None,
    }
}

/// The interval of the one-argument function `FUNCS[f]` over `a`.
fn func_range(f: usize, a: Interval) -> Option<Interval> {
    let (name, apply) = FUNCS.get(f)?;
    let monotone = |a: Interval| widened((apply(a.0), apply(a.1)));
    match *name {
        "sin" | "cos" => widened((-1.0, 1.0)),
        // Monotone between its poles; nearer them, a tangent is not bounded here.
        "tan" if a.0 > -1.5 && a.1 < 1.5 => monotone(a),
        "tan" => None,
        "exp" => monotone(a),
        "ln" | "log10" if a.0 > 0.0 => monotone(a),
        "sqrt" if a.0 >= 0.0 => monotone(a),
        "ln" | "log10" | "sqrt" => None,
        "abs" if a.0 >= 0.0 => Some(a),
        "abs" if a.1 <= 0.0 => Some((-a.1, -a.0)),
        "abs" => Some((0.0, (-a.0).max(a.1))),
        // floor, ceil and round are exact and monotone.
        _ => interval(apply(a.0), apply(a.1)),
    }
}

impl Node {
    /// The values this node takes over the box `i × n`, or `None` when they cannot be proven
    /// finite (see [`Expr::finite_over`]).
    pub(super) fn range(&self, i: Interval, n: Interval) -> Option<Interval> {
        // Children first, in one place, then the arithmetic, with plain loops rather than
        // closures: in a debug build every call site and closure leaves temporaries in this
        // frame, which the recursion repeats at every level of the tree, and this shape halves
        // the stack the deepest trees need.
        let (a, b) = match self {
            Node::Num(v) => return interval(*v, *v),
            Node::I => return interval(i.0, i.1),
            Node::N => return interval(n.0, n.1),
            Node::Neg(x) | Node::Not(x) | Node::Func(_, x) => (&**x, None),
            Node::Pow(a, b) => (&**a, Some(&**b)),
            Node::If(args) => (&args[1], Some(&args[2])),
            Node::Chain(first, _) => (&**first, None),
        };
        let a = a.range(i, n)?;
        let b = match b {
            Some(b) => b.range(i, n)?,
            None => a,
        };
        match self {
            Node::Neg(_) => Some((-a.1, -a.0)),
            Node::Not(_) => Some(BOOLEAN),
            Node::Func(f, _) => func_range(*f, a),
            Node::Pow(..) => pow_range(a, b),
            // A finite condition picks one of the branches, so the value lies in the union of
            // theirs; both must be proven, whichever the condition picks at each point.
            Node::If(args) => args[0].range(i, n).map(|_| (a.0.min(b.0), a.1.max(b.1))),
            Node::Chain(_, rest) => {
                let mut acc = a;
                for (op, x) in rest {
                    let x = x.range(i, n)?;
                    acc = op.range(acc, x)?;
                }
                Some(acc)
            }
            Node::Num(_) | Node::I | Node::N => None,
        }
    }
}
