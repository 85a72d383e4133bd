//! Formulas for synthetic metrics, such as `"i*i + 3"` or `"if(n < 100, 10, 5*n - 490)"`:
//! this module owns tokenizing, parsing (with column-accurate errors) and evaluating them over
//! the variables `i` (1-based index within the cycle) and `n` (1-based tick since start).
//!
//! Grammar, lowest precedence first (`^` and `**` are the same operator):
//! ```text
//! expr    := and ('||' and)*
//! and     := compare ('&&' compare)*
//! compare := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
//! sum     := term (('+' | '-') term)*
//! term    := unary (('*' | '/' | '%') unary)*
//! unary   := ('+' | '-' | '!') unary | power
//! power   := primary (('^' | '**') unary)?
//! primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
//! ```
//! All six comparisons share one level, as in PromQL, and do not chain: `a < b < c` is an
//! error, since it almost always means `a < b && b < c`. `if(c, a, b)` is one of the calls.
//!
//! Evaluation is plain f64 arithmetic and never panics; non-finite results are the caller's
//! business. Comparisons and logic give 1 or 0, and a NaN operand or condition gives NaN, so a
//! broken value is never turned into a plausible 0 or 1; a NaN is dropped only where the formula
//! says its value does not matter: the right of `&&` after a false left, the right of `||` after
//! a true left (both short-circuit, as in C) and the branch `if` does not take. Sources are
//! limited in length and nesting so that neither parsing nor evaluation can exhaust the stack.

use std::fmt;

mod bounds;
mod parse;
#[cfg(test)]
mod tests;

use parse::{err, tokenize, unexpected, Parser, Tok};

/// Longest accepted source, in characters.
const MAX_LEN: usize = 4096;
/// The most characters of a source that [`ParseError::render`] shows.
const SHOWN: usize = 80;
/// Deepest accepted nesting of parentheses, calls, unary operators and powers.
const MAX_DEPTH: usize = 256;

/// A parsed expression, ready to evaluate many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    root: Node,
    uses_n: bool,
}

/// A parse error: `column` is the 1-based character (not byte) column in the source where the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based character column of the offending token (one past the end for end-of-input errors).
    pub column: usize,
    /// Lowercase description of the problem, without the position.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Min,
    Max,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

/// The truth of a value: non-zero is true, and NaN is neither (`None`).
fn truth(x: f64) -> Option<bool> {
    (!x.is_nan()).then_some(x != 0.0)
}

/// 1 for true, 0 for false, NaN for neither.
fn number(t: Option<bool>) -> f64 {
    t.map_or(f64::NAN, |t| f64::from(u8::from(t)))
}

impl Op {
    /// The result of `a op b` when `a` alone decides it: `&&` and `||` short-circuit, so
    /// `0 && b` and `1 || b` do not look at `b`, even a NaN. A NaN `a` decides too: NaN.
    fn decided_by(self, a: f64) -> Option<f64> {
        match (self, truth(a)) {
            (Op::And | Op::Or, None) => Some(f64::NAN),
            (Op::And, Some(false)) => Some(0.0),
            (Op::Or, Some(true)) => Some(1.0),
            _ => None,
        }
    }

    /// `a op b`, for an `a` that [`Op::decided_by`] left undecided.
    fn apply(self, a: f64, b: f64) -> f64 {
        // A comparison with a NaN operand is NaN rather than IEEE's false (or true for `!=`).
        let compare = |holds: fn(&f64, &f64) -> bool| {
            if a.is_nan() || b.is_nan() {
                f64::NAN
            } else {
                number(Some(holds(&a, &b)))
            }
        };
        match self {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            Op::Div => a / b,
            Op::Rem => a % b,
            Op::Min => a.min(b),
            Op::Max => a.max(b),
            Op::Lt => compare(f64::lt),
            Op::Le => compare(f64::le),
            Op::Gt => compare(f64::gt),
            Op::Ge => compare(f64::ge),
            Op::Eq => compare(f64::eq),
            Op::Ne => compare(f64::ne),
            // Undecided: `a` is true for `&&`, false for `||`, so `b` is the answer.
            Op::And | Op::Or => number(truth(b)),
        }
    }
}

type UnaryFn = fn(f64) -> f64;

/// One-argument functions, referred to by index from `Node::Func`.
const FUNCS: &[(&str, UnaryFn)] = &[
    ("sin", f64::sin),
    ("cos", f64::cos),
    ("tan", f64::tan),
    ("exp", f64::exp),
    ("ln", f64::ln),
    ("log10", f64::log10),
    ("sqrt", f64::sqrt),
    ("abs", f64::abs),
    ("floor", f64::floor),
    ("ceil", f64::ceil),
    ("round", f64::round),
];
/// Functions of several arguments, which `Parser::call` turns into other node kinds.
const MULTI_FUNCS: [&str; 4] = ["min", "max", "pow", "if"];

fn is_function(name: &str) -> bool {
    FUNCS.iter().any(|f| f.0 == name) || MULTI_FUNCS.contains(&name)
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Num(f64),
    I,
    N,
    Neg(Box<Node>),
    /// `!x`: 1 when `x` is 0, 0 when it is not, NaN when it is NaN.
    Not(Box<Node>),
    Pow(Box<Node>, Box<Node>),
    /// A left-associative run such as `a - b + c` (or `min(a, b, c)`). Kept flat rather than
    /// as a left-deep tree so that tree depth (and thus eval/drop recursion) is bounded by
    /// nesting, not by length.
    Chain(Box<Node>, Vec<(Op, Node)>),
    /// A one-argument function: an index into `FUNCS`.
    Func(usize, Box<Node>),
    /// `if(condition, then, else)`: only the branch the condition picks is evaluated.
    If(Box<[Node; 3]>),
}

impl Node {
    fn eval(&self, i: f64, n: f64) -> f64 {
        match self {
            Node::Num(v) => *v,
            Node::I => i,
            Node::N => n,
            Node::Neg(x) => -x.eval(i, n),
            Node::Not(x) => number(truth(x.eval(i, n)).map(|t| !t)),
            Node::Pow(base, exp) => base.eval(i, n).powf(exp.eval(i, n)),
            // A plain loop rather than a fold with closures: in a debug build each closure is
            // a stack frame more per level of the tree.
            Node::Chain(first, rest) => {
                let mut acc = first.eval(i, n);
                for (op, x) in rest {
                    acc = match op.decided_by(acc) {
                        Some(result) => result,
                        None => op.apply(acc, x.eval(i, n)),
                    };
                }
                acc
            }
            // The index comes from the parser, so the NaN fallback is only for panic-freedom.
            Node::Func(f, x) => FUNCS.get(*f).map_or(f64::NAN, |f| (f.1)(x.eval(i, n))),
            Node::If(args) => {
                let [condition, then, otherwise] = &**args;
                match truth(condition.eval(i, n)) {
                    Some(true) => then.eval(i, n),
                    Some(false) => otherwise.eval(i, n),
                    None => f64::NAN,
                }
            }
        }
    }
}

impl Expr {
    /// Parses `src`, reporting the leftmost problem with its 1-based character column.
    pub fn parse(src: &str) -> Result<Expr, ParseError> {
        if src.chars().nth(MAX_LEN).is_some() {
            let msg = format!("expression too long (more than {MAX_LEN} characters)");
            return Err(err(MAX_LEN + 1, msg));
        }
        let chars: Vec<char> = src.chars().collect();
        let mut parser = Parser { tokens: tokenize(&chars), pos: 0, depth: 0, uses_n: false };
        if parser.peek().tok == Tok::End {
            return Err(err(1, "empty expression"));
        }
        let root = parser.expr()?;
        let t = parser.next();
        if t.tok != Tok::End {
            return Err(unexpected(&t));
        }
        Ok(Expr { root, uses_n: parser.uses_n })
    }

    /// Evaluates with index-in-cycle `i` and tick `n`; may return inf or NaN, never panics.
    pub fn eval(&self, i: f64, n: f64) -> f64 {
        self.root.eval(i, n)
    }

    /// True when the expression mentions the variable `n` (callers use this to know a value depends on time since start).
    pub fn uses_n(&self) -> bool {
        self.uses_n
    }

    /// Whether [`Expr::eval`] is finite at every `(i, n)` with `i` in `[i.0, i.1]` and `n` in
    /// `[n.0, n.1]`, proven by interval arithmetic: bounds are carried through every operation
    /// and must stay well inside f64, away from zero in a divisor, positive in a logarithm, and
    /// so on. `false` means "not proven", which is what a sequence's fast-forward needs to know
    /// before it jumps over values instead of computing them.
    pub fn finite_over(&self, i: (f64, f64), n: (f64, f64)) -> bool {
        self.root.range(i, n).is_some()
    }
}

impl ParseError {
    /// Renders the error as three lines: the message, the source (whitespace shown as
    /// spaces so the caret lines up) and a caret under the column, e.g.
    /// "unexpected ')' at column 4\n  i*i)\n     ^". A source longer than [`SHOWN`]
    /// characters is shown as that many around the column, with `…` where it is cut, so that
    /// the message stays readable (and short) whatever the config holds.
    pub fn render(&self, src: &str) -> String {
        // One character per column, all of them visible: whitespace becomes a space, and a
        // control or invisible character (which the message shows escaped) a replacement mark.
        let shown = |c: char| match c {
            _ if c.is_whitespace() => ' ',
            '\'' | '"' | '\\' => c,
            _ if c.is_control() || c.escape_debug().len() > 1 => char::REPLACEMENT_CHARACTER,
            _ => c,
        };
        let chars: Vec<char> = src.chars().map(shown).collect();
        let at = self.column.saturating_sub(1);
        let start = if chars.len() <= SHOWN { 0 } else { at.saturating_sub(SHOWN / 2).min(chars.len() - SHOWN) };
        let end = (start + SHOWN).min(chars.len());
        let mut line = String::new();
        if start > 0 {
            line.push('…');
        }
        line.extend(&chars[start..end]);
        if end < chars.len() {
            line.push('…');
        }
        let pad = " ".repeat(at - start + usize::from(start > 0));
        format!("{self}\n  {}\n  {pad}^", line.trim_end())
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.message, self.column)
    }
}

impl std::error::Error for ParseError {}
