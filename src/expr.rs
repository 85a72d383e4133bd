//! Arithmetic formulas for synthetic metrics, such as `"i*i + 3"`: this module owns
//! tokenizing, parsing (with column-accurate errors) and evaluating them over the
//! variables `i` (1-based index within the cycle) and `n` (1-based tick since start).
//!
//! Grammar, lowest precedence first (`^` and `**` are the same operator):
//! ```text
//! expr    := term (('+' | '-') term)*
//! term    := unary (('*' | '/' | '%') unary)*
//! unary   := ('+' | '-') unary | power
//! power   := primary (('^' | '**') unary)?
//! primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
//! ```
//! Evaluation is plain f64 arithmetic and never panics; non-finite results are the
//! caller's business. Sources are limited in length and nesting so that neither
//! parsing nor evaluation can exhaust the stack.

use crate::config::shortened;
use std::fmt;

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
}

impl Op {
    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            Op::Div => a / b,
            Op::Rem => a % b,
            Op::Min => a.min(b),
            Op::Max => a.max(b),
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
const MULTI_FUNCS: [&str; 3] = ["min", "max", "pow"];

fn is_function(name: &str) -> bool {
    FUNCS.iter().any(|f| f.0 == name) || MULTI_FUNCS.contains(&name)
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Num(f64),
    I,
    N,
    Neg(Box<Node>),
    Pow(Box<Node>, Box<Node>),
    /// A left-associative run such as `a - b + c` (or `min(a, b, c)`). Kept flat rather than
    /// as a left-deep tree so that tree depth (and thus eval/drop recursion) is bounded by
    /// nesting, not by length.
    Chain(Box<Node>, Vec<(Op, Node)>),
    /// A one-argument function: an index into `FUNCS`.
    Func(usize, Box<Node>),
}

impl Node {
    /// The values this node takes over the box `i × n`, or `None` when they cannot be proven
    /// finite (see [`Expr::finite_over`]).
    fn range(&self, i: Interval, n: Interval) -> Option<Interval> {
        match self {
            Node::Num(v) => interval(*v, *v),
            Node::I => interval(i.0, i.1),
            Node::N => interval(n.0, n.1),
            Node::Neg(x) => x.range(i, n).map(|(lo, hi)| (-hi, -lo)),
            Node::Pow(base, exp) => pow_range(base.range(i, n)?, exp.range(i, n)?),
            Node::Chain(first, rest) => {
                rest.iter().try_fold(first.range(i, n)?, |acc, (op, x)| op.range(acc, x.range(i, n)?))
            }
            Node::Func(f, x) => func_range(*f, x.range(i, n)?),
        }
    }

    fn eval(&self, i: f64, n: f64) -> f64 {
        match self {
            Node::Num(v) => *v,
            Node::I => i,
            Node::N => n,
            Node::Neg(x) => -x.eval(i, n),
            Node::Pow(base, exp) => base.eval(i, n).powf(exp.eval(i, n)),
            Node::Chain(first, rest) => rest.iter().fold(first.eval(i, n), |acc, (op, x)| op.apply(acc, x.eval(i, n))),
            // The index comes from the parser, so the NaN fallback is only for panic-freedom.
            Node::Func(f, x) => FUNCS.get(*f).map_or(f64::NAN, |f| (f.1)(x.eval(i, n))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    /// One of `+ - * / % ^ ( ) ,`; `**` is lexed as `^`.
    Sym(char),
    End,
    /// A lexing error. It ends the token list and is reported only if the parser reaches
    /// it, so the leftmost problem in the source is the one reported.
    Bad(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    col: usize,
    text: String,
}

fn err(column: usize, message: impl Into<String>) -> ParseError {
    ParseError { column, message: message.into() }
}

fn unexpected(t: &Token) -> ParseError {
    let what = match &t.tok {
        Tok::Bad(msg) => return err(t.col, msg.clone()),
        Tok::End => "end of expression".to_string(),
        Tok::Num(_) => format!("number '{}'", t.text),
        Tok::Name(_) => format!("name '{}'", t.text),
        Tok::Sym(_) => format!("'{}'", t.text),
    };
    err(t.col, format!("unexpected {what}"))
}

/// Splits the source into tokens; the list always ends with `End` or `Bad`.
fn tokenize(chars: &[char]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    while pos < chars.len() {
        let (start, c) = (pos, chars[pos]);
        let skip_digits = |p: usize| p + chars[p..].iter().take_while(|c| c.is_ascii_digit()).count();
        let tok = if c.is_whitespace() {
            pos += 1;
            continue;
        } else if c.is_ascii_digit() || c == '.' {
            // Scan greedily and let `f64::from_str` reject malformed text like `1e` or `.`.
            pos = skip_digits(pos);
            if chars.get(pos) == Some(&'.') {
                pos = skip_digits(pos + 1);
            }
            if matches!(chars.get(pos), Some('e' | 'E')) {
                pos += 1 + usize::from(matches!(chars.get(pos + 1), Some('+' | '-')));
                pos = skip_digits(pos);
            }
            let text: String = chars[start..pos].iter().collect();
            match text.parse() {
                Ok(v) => Tok::Num(v),
                Err(_) => Tok::Bad(format!("invalid number '{text}'")),
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            while chars.get(pos).is_some_and(|&c| c.is_ascii_alphanumeric() || c == '_') {
                pos += 1;
            }
            Tok::Name(chars[start..pos].iter().collect())
        } else if c == '*' && chars.get(pos + 1) == Some(&'*') {
            pos += 2;
            Tok::Sym('^')
        } else if "+-*/%^(),".contains(c) {
            pos += 1;
            Tok::Sym(c)
        } else {
            Tok::Bad(format!("unexpected character '{}'", c.escape_debug()))
        };
        let text = chars[start..pos].iter().collect();
        let bad = matches!(tok, Tok::Bad(_));
        tokens.push(Token { tok, col: start + 1, text });
        if bad {
            return tokens;
        }
    }
    tokens.push(Token { tok: Tok::End, col: chars.len() + 1, text: String::new() });
    tokens
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    uses_n: bool,
}

type PResult<T> = Result<T, ParseError>;

impl Parser {
    fn peek(&self) -> &Token {
        // `pos` never moves past the final End/Bad token, so this index is always valid.
        &self.tokens[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek().tok == Tok::Sym(c);
        if found {
            self.pos += 1;
        }
        found
    }

    /// Runs `f` one nesting level deeper; every recursive grammar path goes through here,
    /// which bounds both the parser's stack use and the depth of the resulting tree.
    fn nested<T>(&mut self, col: usize, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            let msg = format!("expression nested too deeply (more than {MAX_DEPTH} levels)");
            return Err(err(col, msg));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn expr(&mut self) -> PResult<Node> {
        self.chain(Self::term, &[('+', Op::Add), ('-', Op::Sub)])
    }

    fn term(&mut self) -> PResult<Node> {
        let ops = [('*', Op::Mul), ('/', Op::Div), ('%', Op::Rem)];
        self.chain(Self::unary, &ops)
    }

    fn chain(&mut self, operand: fn(&mut Self) -> PResult<Node>, ops: &[(char, Op)]) -> PResult<Node> {
        let first = operand(self)?;
        let mut rest = Vec::new();
        while let Some(&(_, op)) = ops.iter().find(|(c, _)| self.peek().tok == Tok::Sym(*c)) {
            self.pos += 1;
            rest.push((op, operand(self)?));
        }
        Ok(if rest.is_empty() { first } else { Node::Chain(Box::new(first), rest) })
    }

    fn unary(&mut self) -> PResult<Node> {
        let col = self.peek().col;
        if self.eat('-') {
            Ok(Node::Neg(Box::new(self.nested(col, Self::unary)?)))
        } else if self.eat('+') {
            self.nested(col, Self::unary)
        } else {
            self.power()
        }
    }

    fn power(&mut self) -> PResult<Node> {
        let base = self.primary()?;
        let col = self.peek().col;
        if !self.eat('^') {
            return Ok(base);
        }
        // The exponent is a `unary`, which recurses back here: right-associative, and
        // `2^-1` is allowed.
        let exp = self.nested(col, Self::unary)?;
        Ok(Node::Pow(Box::new(base), Box::new(exp)))
    }

    fn primary(&mut self) -> PResult<Node> {
        let t = self.next();
        match &t.tok {
            Tok::Num(v) => Ok(Node::Num(*v)),
            Tok::Sym('(') => {
                let inner = self.nested(t.col, Self::expr)?;
                self.close()?;
                Ok(inner)
            }
            Tok::Name(name) if self.peek().tok == Tok::Sym('(') => self.call(name, t.col),
            Tok::Name(name) => self.variable(name, t.col),
            _ => Err(unexpected(&t)),
        }
    }

    fn close(&mut self) -> PResult<()> {
        let t = self.next();
        match t.tok {
            Tok::Sym(')') => Ok(()),
            Tok::End => Err(err(t.col, "missing ')'")),
            _ => Err(unexpected(&t)),
        }
    }

    fn variable(&mut self, name: &str, col: usize) -> PResult<Node> {
        match name {
            "i" => Ok(Node::I),
            "n" => {
                self.uses_n = true;
                Ok(Node::N)
            }
            "pi" => Ok(Node::Num(std::f64::consts::PI)),
            "e" => Ok(Node::Num(std::f64::consts::E)),
            _ if is_function(name) => Err(err(col, format!("function '{name}' must be called with parentheses"))),
            // A name of thousands of characters is cut, so the message stays one readable line.
            _ => Err(err(col, format!("unknown variable '{}' (valid: i, n, pi, e)", shortened(name)))),
        }
    }

    fn call(&mut self, name: &str, col: usize) -> PResult<Node> {
        let unary = FUNCS.iter().position(|f| f.0 == name);
        if !is_function(name) {
            let known: Vec<&str> = FUNCS.iter().map(|f| f.0).chain(MULTI_FUNCS).collect();
            let msg = format!("unknown function '{}' (known: {})", shortened(name), known.join(", "));
            return Err(err(col, msg));
        }
        let open = self.next(); // the '(' that `primary` peeked at
        let args = self.nested(open.col, |p| {
            let mut args = Vec::new();
            if p.eat(')') {
                return Ok(args);
            }
            loop {
                args.push(p.expr()?);
                if !p.eat(',') {
                    p.close()?;
                    return Ok(args);
                }
            }
        })?;
        let got = args.len();
        // Each arm yields None when the argument count is wrong.
        let (node, want) = match unary {
            Some(f) => {
                let node = <[Node; 1]>::try_from(args).ok().map(|[x]| Node::Func(f, Box::new(x)));
                (node, "1 argument")
            }
            None if name == "pow" => {
                let node = <[Node; 2]>::try_from(args).ok().map(|[a, b]| Node::Pow(Box::new(a), Box::new(b)));
                (node, "2 arguments")
            }
            None => {
                // min(a, b, c) is the left-to-right chain `a min b min c`.
                let op = if name == "min" { Op::Min } else { Op::Max };
                let mut args = args.into_iter();
                let first = args.next().filter(|_| got >= 2);
                let node = first.map(|a| Node::Chain(Box::new(a), args.map(|x| (op, x)).collect()));
                (node, "at least 2 arguments")
            }
        };
        node.ok_or_else(|| err(col, format!("{name} takes {want}, got {got}")))
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

/// The closed interval `[lo, hi]` of values a sub-expression can take over a box of `(i, n)`.
type Interval = (f64, f64);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(src: &str, i: f64, n: f64, expected: f64) {
        let got = match Expr::parse(src) {
            Ok(e) => e.eval(i, n),
            Err(e) => panic!("{src:?} failed to parse: {e}"),
        };
        let tolerance = 1e-12 * expected.abs().max(1.0);
        assert!(
            got == expected || (got - expected).abs() <= tolerance,
            "{src:?} at i={i}, n={n}: got {got}, expected {expected}"
        );
    }

    #[track_caller]
    fn check_err(src: &str, column: usize, message: &str) {
        let want = ParseError { column, message: message.to_string() };
        assert_eq!(Expr::parse(src), Err(want), "source {src:?}");
    }

    #[test]
    fn evaluates_precedence_associativity_and_functions() {
        let cases: &[(&str, f64, f64, f64)] = &[
            ("-2^2", 0.0, 0.0, -4.0),
            ("2^3^2", 0.0, 0.0, 512.0),
            ("2**3**2", 0.0, 0.0, 512.0),
            ("(-2)^2", 0.0, 0.0, 4.0),
            ("2^-1", 0.0, 0.0, 0.5),
            ("1-2-3", 0.0, 0.0, -4.0),
            ("8/4/2", 0.0, 0.0, 1.0),
            ("7%4", 0.0, 0.0, 3.0),
            ("-7%4", 0.0, 0.0, -3.0),
            ("2+3*4", 0.0, 0.0, 14.0),
            ("(2+3)*4", 0.0, 0.0, 20.0),
            ("-i^2", 3.0, 0.0, -9.0),
            ("--2", 0.0, 0.0, 2.0),
            ("+2", 0.0, 0.0, 2.0),
            ("i*i + 3", 4.0, 0.0, 19.0),
            ("n - i", 2.0, 10.0, 8.0),
            ("min(i, 3)", 5.0, 0.0, 3.0),
            ("max(1,2)", 0.0, 0.0, 2.0),
            ("max(1, 7, 2)", 0.0, 0.0, 7.0),
            ("pow(2, 10)", 0.0, 0.0, 1024.0),
            ("sqrt(16)", 0.0, 0.0, 4.0),
            ("abs(-3)", 0.0, 0.0, 3.0),
            ("floor(2.7)", 0.0, 0.0, 2.0),
            ("ceil(2.1)", 0.0, 0.0, 3.0),
            ("round(2.5)", 0.0, 0.0, 3.0),
            ("round(-2.5)", 0.0, 0.0, -3.0),
            ("ln(e)", 0.0, 0.0, 1.0),
            ("log10(1000)", 0.0, 0.0, 3.0),
            ("exp(0)", 0.0, 0.0, 1.0),
            ("sin(pi/2)", 0.0, 0.0, 1.0),
            ("cos(0)", 0.0, 0.0, 1.0),
            ("tan(0)", 0.0, 0.0, 0.0),
            ("1e3", 0.0, 0.0, 1000.0),
            (".5", 0.0, 0.0, 0.5),
            ("2.5E-3", 0.0, 0.0, 0.0025),
            (" \t2 *\n( i + 1 )\n", 3.0, 0.0, 8.0),
        ];
        for &(src, i, n, expected) in cases {
            check(src, i, n, expected);
        }
    }

    #[test]
    fn integer_results_are_exact() {
        let square = Expr::parse("i*i").unwrap();
        let power = Expr::parse("2^i").unwrap();
        for i in 1..=200 {
            let x = f64::from(i);
            assert_eq!(square.eval(x, 1.0), x * x, "i*i at i={i}");
            assert_eq!(power.eval(x, 1.0), 2f64.powi(i), "2^i at i={i}");
        }
    }

    #[test]
    fn reports_errors_with_columns() {
        let known = "sin, cos, tan, exp, ln, log10, sqrt, abs, floor, ceil, round, min, max, pow";
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "empty expression"),
            ("   ", 1, "empty expression"),
            ("1 +", 4, "unexpected end of expression"),
            ("(1", 3, "missing ')'"),
            ("sin(1", 6, "missing ')'"),
            ("1)", 2, "unexpected ')'"),
            ("i*", 3, "unexpected end of expression"),
            ("x", 1, "unknown variable 'x' (valid: i, n, pi, e)"),
            ("sin", 1, "function 'sin' must be called with parentheses"),
            ("sin(1,2)", 1, "sin takes 1 argument, got 2"),
            ("sin()", 1, "sin takes 1 argument, got 0"),
            ("min(1)", 1, "min takes at least 2 arguments, got 1"),
            ("1+pow(1)", 3, "pow takes 2 arguments, got 1"),
            ("1 $ 2", 3, "unexpected character '$'"),
            ("1e", 1, "invalid number '1e'"),
            ("1 + 2e+", 5, "invalid number '2e+'"),
            (".", 1, "invalid number '.'"),
            ("2 3", 3, "unexpected number '3'"),
            ("2 x", 3, "unexpected name 'x'"),
            ("é", 1, "unexpected character 'é'"),
            ("i + é", 5, "unexpected character 'é'"),
            ("*2", 1, "unexpected '*'"),
            ("2 ** ** 2", 6, "unexpected '**'"),
            (",", 1, "unexpected ','"),
            ("pow(2,)", 7, "unexpected ')'"),
            ("1) $", 2, "unexpected ')'"),
        ];
        for &(src, column, message) in cases {
            check_err(src, column, message);
        }
        let msg = format!("unknown function 'foo' (known: {known})");
        check_err("foo(1)", 1, &msg);
    }

    #[test]
    fn bounds_length_and_depth() {
        let too_long = "expression too long (more than 4096 characters)";
        check_err(&"(".repeat(100_000), 4097, too_long);
        check_err(&format!("{}x", "-".repeat(100_000)), 4097, too_long);
        check("1+".repeat(2047).as_str().trim_end_matches('+'), 0.0, 0.0, 2047.0);

        let too_deep = "expression nested too deeply (more than 256 levels)";
        check_err(&format!("{}1", "(".repeat(4000)), 257, too_deep);
        check_err(&format!("{}1", "-".repeat(4000)), 257, too_deep);
        check_err(&format!("{}2", "2^".repeat(2000)), 2 * 257, too_deep);
        check_err(&format!("{}0", "sin(".repeat(1000)), 4 * 257, too_deep);
        let deepest = format!("{}i{}", "(".repeat(256), ")".repeat(256));
        check(&deepest, 7.0, 0.0, 7.0);
    }

    #[test]
    fn never_panics_on_short_inputs() {
        let atoms = ["1", "i", "(", ")", "-", "^", "*", ",", "e", "é", " ", ".", "min"];
        for a in atoms {
            for b in atoms {
                for c in atoms {
                    if let Ok(e) = Expr::parse(&format!("{a}{b}{c}")) {
                        e.eval(2.0, 3.0);
                    }
                }
            }
        }
    }

    #[test]
    fn renders_caret_under_column() {
        let e = Expr::parse("i*i)").unwrap_err();
        assert_eq!(e.to_string(), "unexpected ')' at column 4");
        assert_eq!(e.render("i*i)"), "unexpected ')' at column 4\n  i*i)\n     ^");
        let src = "i\t+ é";
        let e = Expr::parse(src).unwrap_err();
        let want = "unexpected character 'é' at column 5\n  i + é\n      ^";
        assert_eq!(e.render(src), want);
        let _: &dyn std::error::Error = &e;
    }

    #[test]
    fn control_and_invisible_characters_are_never_printed_raw() {
        // Found by fuzzing (fuzz/fuzz_targets/expr.rs): a NUL after the bad character reached
        // the terminal as it was.
        let src = ":\u{4e2}\0\0i";
        let e = Expr::parse(src).unwrap_err();
        assert_eq!(e.render(src), "unexpected character ':' at column 1\n  :\u{4e2}\u{fffd}\u{fffd}i\n  ^");
        let src = "i +\u{7}";
        assert_eq!(
            Expr::parse(src).unwrap_err().render(src),
            "unexpected character '\\u{7}' at column 4\n  i +\u{fffd}\n     ^"
        );
        let src = "i\u{200b}";
        assert_eq!(Expr::parse(src).unwrap_err().to_string(), "unexpected character '\\u{200b}' at column 2");
        let src = "'";
        assert_eq!(Expr::parse(src).unwrap_err().render(src), "unexpected character '\\'' at column 1\n  '\n  ^");
    }

    #[test]
    fn a_long_unknown_name_is_cut_in_the_message() {
        // Found by the config fuzzer: a 2,000-character name made a 2 kB message.
        let name = "a".repeat(2000);
        let e = Expr::parse(&format!("i+{name}")).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("unknown variable '{}… (2000 characters)' (valid: i, n, pi, e) at column 3", &name[..60])
        );
        let e = Expr::parse(&format!("{name}(i)")).unwrap_err();
        assert!(e.to_string().starts_with(&format!("unknown function '{}… (2000 characters)' (known: ", &name[..60])));
    }

    #[test]
    fn a_long_source_is_shown_around_the_column() {
        let src = format!("{}+)", "i+".repeat(100));
        let e = Expr::parse(&src).unwrap_err();
        assert_eq!(e.column, 202);
        let shown = format!("…{}+)", "i+".repeat(39));
        assert_eq!(e.render(&src), format!("unexpected ')' at column 202\n  {shown}\n  {}^", " ".repeat(80)));
        let src = format!("({}", "i+".repeat(100));
        let e = Expr::parse(&src).unwrap_err();
        assert_eq!(e.render(&src).lines().nth(1), Some(format!("  …{}", &src[121..]).as_str()));
        let src = format!("$ {}", "i+".repeat(100));
        let e = Expr::parse(&src).unwrap_err();
        assert_eq!(e.render(&src), format!("unexpected character '$' at column 1\n  {}…\n  ^", &src[..80]));
        let long = "1".repeat(5000);
        let e = Expr::parse(&long).unwrap_err();
        assert!(e.render(&long).len() < 300, "{}", e.render(&long));
    }

    #[test]
    fn division_by_zero_is_ieee() {
        check("1/0", 0.0, 0.0, f64::INFINITY);
        check("-1/(n-n)", 0.0, 4.0, f64::NEG_INFINITY);
        assert!(Expr::parse("0/0").unwrap().eval(0.0, 0.0).is_nan());
        assert!(Expr::parse("1%0").unwrap().eval(0.0, 0.0).is_nan());
    }

    #[test]
    fn finite_over_proves_what_it_can_and_only_what_is_true() {
        let proven = |src: &str, i: (f64, f64), n: (f64, f64)| Expr::parse(src).unwrap().finite_over(i, n);
        let big = (1.0, 4e9);
        for (src, i, n, expected) in [
            ("100*n + 20*sin(2*pi*n/60)", big, big, true),
            ("i*i + 3", big, big, true),
            ("i**i", (1.0, 130.0), big, true),
            ("i**i", (1.0, 200.0), big, false),
            ("1/(n-5)", big, (1.0, 4.0), true),
            ("1/(n-5)", big, (1.0, 10.0), false),
            ("1/(n-5)", big, (6.0, 1e9), true),
            ("ln(n)", big, (1.0, 1e9), true),
            ("ln(n-1)", big, (1.0, 1e9), false),
            ("sqrt(n-1)", big, (1.0, 1e9), true),
            ("sqrt(n-2)", big, (1.0, 1e9), false),
            ("n % 7 + i % 3", big, big, true),
            ("n % (i - 1)", (1.0, 5.0), big, false),
            ("2^i", (1.0, 900.0), big, true),
            ("2^i", (1.0, 1100.0), big, false),
            ("exp(n)", big, (1.0, 690.0), true),
            ("exp(n)", big, (1.0, 800.0), false),
            ("tan(n)", big, big, false),
            ("tan(n/1000)", big, (0.0, 1000.0), true),
            ("(-2)^i", big, big, false),
            ("(n-10)^2 + 1/((n-10)^2 + 1)", big, (1.0, 100.0), true),
            ("1/((n-10)^2)", big, (1.0, 100.0), false),
            ("min(n, 5) + max(abs(i - 9), 1)", big, big, true),
            ("1/abs(n-3)", big, (1.0, 5.0), false),
            ("1e999", big, big, false),
            ("0*n", big, big, true),
        ] {
            assert_eq!(proven(src, i, n), expected, "{src} over i {i:?}, n {n:?}");
        }
    }

    /// Whatever the expression and the box, a proof of finiteness is never wrong: every point of
    /// a proven box (its corners, and points spread over it) evaluates to a finite number.
    #[test]
    fn finite_over_is_never_wrong() {
        let sources = [
            "i*i + 3",
            "100*n + 20*sin(2*pi*n/60)",
            "1/(n-5)",
            "i**i",
            "2^i",
            "ln(n - 3)",
            "sqrt(i - 4)",
            "exp(n/10)",
            "n % (i - 3)",
            "1/(i*i - 9*i + 20)",
            "tan(n/100)",
            "(i - 7)^-2",
            "(n - 20)^3 / (i - 2)",
            "log10(abs(n - 8))",
            "pow(i, n/50)",
            "pow(i - 5, 0.5)",
            "floor(n/3) / ceil(i/4)",
            "1/round(n/10 - 2)",
            "min(1/(i-3), 2) + max(n, 1/(n-40))",
            "10^(n/10)",
        ];
        let mut rng = crate::functions::SplitMix64(7);
        let mut proofs = 0;
        for src in sources {
            let expr = Expr::parse(src).unwrap();
            for _ in 0..300 {
                let lo_i = 1 + rng.next_u64() % 60;
                let lo_n = 1 + rng.next_u64() % 200;
                let (hi_i, hi_n) = (lo_i + rng.next_u64() % 40, lo_n + rng.next_u64() % 400);
                if !expr.finite_over((lo_i as f64, hi_i as f64), (lo_n as f64, hi_n as f64)) {
                    continue;
                }
                proofs += 1;
                for i in lo_i..=hi_i {
                    for n in (lo_n..=hi_n).step_by(7).chain([hi_n]) {
                        let v = expr.eval(i as f64, n as f64);
                        assert!(
                            v.is_finite(),
                            "{src} proven finite over i {lo_i}..={hi_i}, n {lo_n}..={hi_n}, but {v} at ({i}, {n})"
                        );
                    }
                }
            }
        }
        // Most boxes of most sources are proven; the check above is not vacuous.
        assert!(proofs > 2000, "{proofs} proofs");
    }

    #[test]
    fn detects_uses_of_n() {
        for (src, uses) in [("i*i", false), ("pi + e", false), ("n", true), ("min(i, 2*n)", true)] {
            assert_eq!(Expr::parse(src).unwrap().uses_n(), uses, "{src}");
        }
    }
}
