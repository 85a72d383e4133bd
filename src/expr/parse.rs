//! Tokenizing and parsing an expression's source into a tree of [`Node`]s, with the leftmost
//! problem reported at its 1-based character column.

use super::{is_function, Node, Op, ParseError, FUNCS, MAX_DEPTH, MULTI_FUNCS};
use crate::text::shortened;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
        Tok::Num(_) => format!("number '{}'", t.text),
        Tok::Name(_) => format!("name '{}'", t.text),
        Tok::Sym(_) => format!("'{}'", t.text),
    };
    err(t.col, format!("unexpected {what}"))
}

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

    pub(super) fn expr(&mut self) -> PResult<Node> {
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
