//! Tokenizing and parsing an expression's source into a tree of [`Node`]s, with the leftmost
//! problem reported at its 1-based character column.

use super::{is_function, Node, Op, ParseError, FUNCS, MAX_DEPTH, MULTI_FUNCS};
use crate::text::shortened;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Num(f64),
    Name(String),
    /// An operator or punctuation, one of [`SYMBOLS`]; `**` is lexed as `^`.
    Sym(&'static str),
    End,
    /// A lexing error. It ends the token list and is reported only if the parser reaches
    /// it, so the leftmost problem in the source is the one reported.
    Bad(String),
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) col: usize,
    pub(super) text: String,
}

pub(super) fn err(column: usize, message: impl Into<String>) -> ParseError {
    ParseError { column, message: message.into() }
}

pub(super) fn unexpected(t: &Token) -> ParseError {
    let what = match &t.tok {
        Tok::Bad(msg) => return err(t.col, msg.clone()),
        Tok::End => "end of expression".to_string(),
        // A token of any length is cut, so that the message stays one readable line.
        Tok::Num(_) => format!("number '{}'", shortened(&t.text)),
        Tok::Name(_) => format!("name '{}'", shortened(&t.text)),
        Tok::Sym(_) => format!("'{}'", t.text),
    };
    err(t.col, format!("unexpected {what}"))
}

/// Every symbol, longest first so that `<=` is not read as `<` then `=`. The two-character
/// ones are found before the one-character ones, which is what makes `!=` one token and `!`
/// another, and `**` (lexed as `^`) one token rather than two `*`.
const SYMBOLS: [&str; 19] =
    ["**", "<=", ">=", "==", "!=", "&&", "||", "+", "-", "*", "/", "%", "^", "(", ")", ",", "<", ">", "!"];

/// Characters that are only half of an operator, with a hint at the operator they were probably
/// meant to be, so that `n = 5` says more than "unexpected character".
const HALVES: [(char, &str); 3] =
    [('=', "equality is '=='"), ('&', "logical and is '&&'"), ('|', "logical or is '||'")];

/// Splits the source into tokens; the list always ends with `End` or `Bad`.
pub(super) fn tokenize(chars: &[char]) -> Vec<Token> {
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
                Err(_) => Tok::Bad(format!("invalid number '{}'", shortened(&text))),
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            while chars.get(pos).is_some_and(|&c| c.is_ascii_alphanumeric() || c == '_') {
                pos += 1;
            }
            Tok::Name(chars[start..pos].iter().collect())
        } else if let Some(sym) = symbol_at(&chars[pos..]) {
            pos += sym.len();
            Tok::Sym(if sym == "**" { "^" } else { sym })
        } else if let Some((_, hint)) = HALVES.iter().find(|h| h.0 == c) {
            Tok::Bad(format!("unexpected character '{c}' ({hint})"))
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

/// The longest symbol that `rest` starts with. Symbols are ASCII, so one char is one byte.
fn symbol_at(rest: &[char]) -> Option<&'static str> {
    let head: String = rest.iter().take(2).collect();
    SYMBOLS.into_iter().find(|s| head.starts_with(s))
}

/// The precedence level of comparisons, which do not chain: `a < b < c` compares a 0 or 1
/// with `c`, which is almost always a mistake for `a < b && b < c`, so a second comparison in
/// a row is an error rather than C's left-to-right reading. Parentheses say the rare other
/// meaning.
const COMPARE: u8 = 2;

/// Binary operators with their precedence level, loosest 0.
const BINARY: [(&str, Op, u8); 13] = [
    ("||", Op::Or, 0),
    ("&&", Op::And, 1),
    ("<", Op::Lt, COMPARE),
    ("<=", Op::Le, COMPARE),
    (">", Op::Gt, COMPARE),
    (">=", Op::Ge, COMPARE),
    ("==", Op::Eq, COMPARE),
    ("!=", Op::Ne, COMPARE),
    ("+", Op::Add, 3),
    ("-", Op::Sub, 3),
    ("*", Op::Mul, 4),
    ("/", Op::Div, 4),
    ("%", Op::Rem, 4),
];

/// A left-associative run of operators of one level still being read, such as `a - b +`:
/// `first`, the pairs so far, and the operator waiting for its right operand.
struct Run {
    level: u8,
    first: Node,
    rest: Vec<(Op, Node)>,
    pending: Op,
}

impl Run {
    /// The run ended by `last`, its pending operator's right operand.
    fn close(mut self, last: Node) -> Node {
        self.rest.push((self.pending, last));
        Node::Chain(Box::new(self.first), self.rest)
    }
}

pub(super) struct Parser {
    pub(super) tokens: Vec<Token>,
    pub(super) pos: usize,
    pub(super) depth: usize,
    pub(super) uses_n: bool,
}

type PResult<T> = Result<T, ParseError>;

impl Parser {
    pub(super) fn peek(&self) -> &Token {
        // `pos` never moves past the final End/Bad token, so this index is always valid.
        &self.tokens[self.pos]
    }

    pub(super) fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    /// True when the current token is the symbol `sym`.
    fn at(&self, sym: &str) -> bool {
        matches!(self.peek().tok, Tok::Sym(s) if s == sym)
    }

    fn eat(&mut self, sym: &str) -> bool {
        let found = self.at(sym);
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

    /// The binary operators of the grammar (see the module documentation of `expr`) in one
    /// loop rather than one function per precedence level: five levels of functions, each
    /// called for every parenthesis, made a deep nesting cost more stack than a 2 MiB thread
    /// has in a debug build. The runs still open, loosest first, are kept on the heap; each
    /// becomes a flat `Node::Chain` once an operator of a looser level (or the end) closes it.
    pub(super) fn expr(&mut self) -> PResult<Node> {
        let mut open: Vec<Run> = Vec::new();
        loop {
            let mut operand = self.unary()?;
            let next = BINARY.iter().find(|(s, ..)| self.at(s)).map(|&(_, op, level)| (op, level));
            let level = next.map(|(_, level)| level);
            // `Some(level)` sorts above `None`, so the end of the expression closes every run.
            while let Some(run) = open.last().is_some_and(|run| Some(run.level) > level).then(|| open.pop()).flatten() {
                operand = run.close(operand);
            }
            let Some((op, level)) = next else {
                return Ok(operand);
            };
            match open.last_mut() {
                Some(run) if run.level == level && level == COMPARE => {
                    let msg = "comparisons do not chain: write 'a < b && b < c', or add parentheses";
                    return Err(err(self.peek().col, msg));
                }
                Some(run) if run.level == level => run.rest.push((std::mem::replace(&mut run.pending, op), operand)),
                _ => open.push(Run { level, first: operand, rest: Vec::new(), pending: op }),
            }
            self.pos += 1;
        }
    }

    fn unary(&mut self) -> PResult<Node> {
        let col = self.peek().col;
        if self.eat("-") {
            Ok(Node::Neg(Box::new(self.nested(col, Self::unary)?)))
        } else if self.eat("!") {
            Ok(Node::Not(Box::new(self.nested(col, Self::unary)?)))
        } else if self.eat("+") {
            self.nested(col, Self::unary)
        } else {
            self.power()
        }
    }

    fn power(&mut self) -> PResult<Node> {
        let base = self.primary()?;
        let col = self.peek().col;
        if !self.eat("^") {
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
            Tok::Sym("(") => {
                let inner = self.nested(t.col, Self::expr)?;
                self.close()?;
                Ok(inner)
            }
            Tok::Name(name) if self.at("(") => self.call(name, t.col),
            Tok::Name(name) => self.variable(name, t.col),
            _ => Err(unexpected(&t)),
        }
    }

    fn close(&mut self) -> PResult<()> {
        let t = self.next();
        match t.tok {
            Tok::Sym(")") => Ok(()),
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
            if p.eat(")") {
                return Ok(args);
            }
            loop {
                args.push(p.expr()?);
                if !p.eat(",") {
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
            None if name == "if" => {
                let node = <[Node; 3]>::try_from(args).ok().map(|args| Node::If(Box::new(args)));
                (node, "3 arguments (condition, then, else)")
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
