//! The expression language's tests: evaluation, errors with their columns, limits, and the
//! finiteness proofs.

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
        // Comparisons give 1 or 0 and bind looser than arithmetic.
        ("1 < 2", 0.0, 0.0, 1.0),
        ("2 < 2", 0.0, 0.0, 0.0),
        ("2 <= 2", 0.0, 0.0, 1.0),
        ("3 > 2", 0.0, 0.0, 1.0),
        ("2 >= 3", 0.0, 0.0, 0.0),
        ("2 == 2", 0.0, 0.0, 1.0),
        ("2 != 2", 0.0, 0.0, 0.0),
        ("-0 == 0", 0.0, 0.0, 1.0),
        ("1/0 > 1e308", 0.0, 0.0, 1.0),
        ("i + 1 < n * 2", 3.0, 2.0, 0.0),
        ("i + 1 <= n * 2", 3.0, 2.0, 1.0),
        ("(n % 60 < 10) * 100", 0.0, 65.0, 100.0),
        ("(n % 60 < 10) * 100", 0.0, 75.0, 0.0),
        // `!` is a unary operator like `-`: looser than `^`, tighter than the rest.
        ("!0", 0.0, 0.0, 1.0),
        ("!-3", 0.0, 0.0, 0.0),
        ("!!7", 0.0, 0.0, 1.0),
        ("!0^2", 0.0, 0.0, 1.0),
        ("!1 + 1", 0.0, 0.0, 1.0),
        ("!(1 + 1)", 0.0, 0.0, 0.0),
        ("-!0", 0.0, 0.0, -1.0),
        ("2^!0", 0.0, 0.0, 2.0),
        // `&&` binds tighter than `||`, both looser than comparisons; non-zero is true.
        ("2 && -1", 0.0, 0.0, 1.0),
        ("2 && 0", 0.0, 0.0, 0.0),
        ("0 || 0.5", 0.0, 0.0, 1.0),
        ("0 || 0", 0.0, 0.0, 0.0),
        ("1 || 0 && 0", 0.0, 0.0, 1.0),
        ("(1 || 0) && 0", 0.0, 0.0, 0.0),
        ("0 && 1 || 1", 0.0, 0.0, 1.0),
        ("n > 2 && n < 5", 0.0, 3.0, 1.0),
        ("n > 2 && n < 5", 0.0, 5.0, 0.0),
        ("n < 2 || n > 4 && i == 1", 1.0, 5.0, 1.0),
        ("1 && 1 && 1 && 0", 0.0, 0.0, 0.0),
        ("(1 < 2) < 3", 0.0, 0.0, 1.0),
        ("(1 < 2) == (3 < 4)", 0.0, 0.0, 1.0),
        // if(c, a, b) picks a when c is non-zero.
        ("if(n < 100, 10, 10 + (n - 100)*5)", 0.0, 99.0, 10.0),
        ("if(n < 100, 10, 10 + (n - 100)*5)", 0.0, 102.0, 20.0),
        ("if(-0.5, 1, 2)", 0.0, 0.0, 1.0),
        ("if(0, 1, 2)", 0.0, 0.0, 2.0),
        ("if(i, if(n, 1, 2), 3) * 2", 1.0, 0.0, 4.0),
        ("1 + if(1, 2, 3)^2", 0.0, 0.0, 5.0),
    ];
    for &(src, i, n, expected) in cases {
        check(src, i, n, expected);
    }
}

#[track_caller]
fn check_nan(src: &str, i: f64, n: f64) {
    let got = Expr::parse(src).unwrap().eval(i, n);
    assert!(got.is_nan(), "{src:?} at i={i}, n={n}: got {got}, expected NaN");
}

/// A NaN is never turned into a plausible 0 or 1 by a comparison or a test of truth; it is
/// dropped only where the formula says its value does not matter.
#[test]
fn nan_stays_nan_unless_its_value_does_not_matter() {
    for src in [
        "0/0 < 1",
        "1 < 0/0",
        "0/0 == 0/0",
        "0/0 != 0/0",
        "0/0 != 1",
        "!(0/0)",
        "0/0 && 0",
        "0/0 || 1",
        "1 && 0/0",
        "0 || 0/0",
        "if(0/0, 1, 2)",
        "if(1, 0/0, 2)",
        "if(0, 1, 0/0)",
        "sqrt(i - 4) < 1",
    ] {
        check_nan(src, 1.0, 1.0);
    }
    // `&&` and `||` short-circuit, and `if` evaluates only its chosen branch.
    check("0 && 0/0", 0.0, 0.0, 0.0);
    check("1 || 0/0", 0.0, 0.0, 1.0);
    check("i > 4 && sqrt(i - 4) < 1", 1.0, 0.0, 0.0);
    check("if(1, 2, 0/0)", 0.0, 0.0, 2.0);
    check("if(0, 0/0, 3)", 0.0, 0.0, 3.0);
    check("if(i > 4, sqrt(i - 4), -1)", 1.0, 0.0, -1.0);
    // Infinities compare as numbers and are true.
    check("if(1/0, 1, 2)", 0.0, 0.0, 1.0);
    check("-1/0 < 0 && 1/0", 0.0, 0.0, 1.0);
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
fn a_long_token_in_an_error_is_cut() {
    // A fuzzed config: a name or a number thousands of characters long where none is expected.
    let cut = |c: &str, n: usize| format!("{}… ({n} characters)", c.repeat(60));
    check_err(&format!("2 {}", "a".repeat(3000)), 3, &format!("unexpected name '{}'", cut("a", 3000)));
    check_err(&format!("2 {}", "4".repeat(3000)), 3, &format!("unexpected number '{}'", cut("4", 3000)));
    check_err(&format!("{}e", "1".repeat(3000)), 1, &format!("invalid number '{}'", cut("1", 3001)));
}

#[test]
fn reports_errors_with_columns() {
    let known = "sin, cos, tan, exp, ln, log10, sqrt, abs, floor, ceil, round, min, max, pow, if";
    let chain = "comparisons do not chain: write 'a < b && b < c', or add parentheses";
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
        ("1 < 2 < 3", 7, chain),
        ("0 <= n == 1", 8, chain),
        ("i != 1 > 0", 8, chain),
        ("1 < 2 && 2 < 3 < 4", 16, chain),
        ("if(1 < 2 > 0, 1, 2)", 10, chain),
        ("n = 5", 3, "unexpected character '=' (equality is '==')"),
        ("n =< 5", 3, "unexpected character '=' (equality is '==')"),
        ("i & 1", 3, "unexpected character '&' (logical and is '&&')"),
        ("i | 1", 3, "unexpected character '|' (logical or is '||')"),
        ("1 < ", 5, "unexpected end of expression"),
        ("1 << 2", 4, "unexpected '<'"),
        ("1 && && 2", 6, "unexpected '&&'"),
        ("1 ||", 5, "unexpected end of expression"),
        ("!", 2, "unexpected end of expression"),
        ("1 !", 3, "unexpected '!'"),
        ("1 ! = 2", 3, "unexpected '!'"),
        ("if", 1, "function 'if' must be called with parentheses"),
        ("if(", 4, "unexpected end of expression"),
        ("if(n < 100, 10", 15, "missing ')'"),
        ("if(n < 100, 10)", 1, "if takes 3 arguments (condition, then, else), got 2"),
        ("2 * if(1, 2, 3, 4)", 5, "if takes 3 arguments (condition, then, else), got 4"),
        ("if(n < 100; 10, 20)", 11, "unexpected character ';'"),
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
    check_err(&format!("{}1", "!".repeat(4000)), 257, too_deep);
    check_err(&format!("{}1", "if(1,".repeat(300)), 5 * 256 + 3, too_deep);
    let deepest = format!("{}i{}", "(".repeat(256), ")".repeat(256));
    check(&deepest, 7.0, 0.0, 7.0);
    // Runs of `&&` and `||` are flat, as sums are, however long.
    check("1&&".repeat(1365).as_str().trim_end_matches('&'), 0.0, 0.0, 1.0);
    check(&format!("{}1", "0||".repeat(1365)), 0.0, 0.0, 1.0);
}

#[test]
fn never_panics_on_short_inputs() {
    let atoms = [
        "1", "i", "(", ")", "-", "^", "*", ",", "e", "é", " ", ".", "min", "<", "<=", "==", "!=", "!", "=", "&&", "|",
        "||", "if(", "0/0",
    ];
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
        ("(n % 60 < 10) * 100", big, big, true),
        ("n > 5 && i < 3 || !(n == i)", big, big, true),
        ("if(n < 100, 10, 10 + (n - 100)*5)", big, big, true),
        ("if(n < 100, 10, ln(n - 99))", big, (1.0, 50.0), false),
        ("if(n < 100, 10, ln(n - 99))", big, (100.0, 200.0), true),
        ("if(1/(n-5), 1, 2)", big, (1.0, 10.0), false),
        ("1/(n-5) < 3", big, (1.0, 10.0), false),
        ("!(1/(n-5))", big, (1.0, 10.0), false),
        ("1/(n-5) || 1", big, (1.0, 10.0), false),
        ("1/(n < 5)", big, big, false),
        ("1/(1 + (n < 5))", big, big, true),
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
        "(n % 60 < 10) * 100",
        "if(n < 100, 10, 10 + (n - 100)*5)",
        "if(i > 4, sqrt(i - 4), -1)",
        "if(n - 50, 1/(n - 50), 0)",
        "if(1/(n - 80) > 0, 1, 2)",
        "1/(i < 30)",
        "1/(n >= 100 || i == 9)",
        "1/!(n % 20) + 1/(i != 7)",
        "ln(n <= 150 && i > 2)",
        "if(!(i % 4), 1/(i % 4 + (i > 20)), 3)",
        "(1/(n - 100) < 0) + (i - 9 == 0)",
    ];
    let mut rng = crate::splitmix::SplitMix64(7);
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
    for (src, uses) in [
        ("i*i", false),
        ("pi + e", false),
        ("n", true),
        ("min(i, 2*n)", true),
        ("i < 3 && !i || i != 2", false),
        ("if(i < 3, 1, 2)", false),
        ("i > n", true),
        ("!n", true),
        ("i && n", true),
        ("if(n < 100, 1, 2)", true),
        ("if(i < 3, n, 2)", true),
        // Mentioned in a branch the condition never takes, but mentioned: a caller is told
        // about it, which is the cautious answer.
        ("if(0, 1, n)", true),
    ] {
        assert_eq!(Expr::parse(src).unwrap().uses_n(), uses, "{src}");
    }
}

/// The examples of docs/functions.md's "Expression language" section whose values are listed
/// as numbers (`1, 2, 3, …`, at n = i = 1, 2, …) are what evaluation gives.
#[test]
fn documented_examples_are_true() {
    let page = include_str!("../../docs/functions.md");
    let section = &page[page.find("## Expression language").unwrap()..];
    let table = &section[section.find("| expression | values |").unwrap()..];
    let mut checked = 0;
    for row in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split(" | ").collect();
        // Markdown escapes `|` in a table, and the manual writes minus signs as such.
        let src = cells[0].trim_start_matches("| `").trim_end_matches('`').replace("\\|", "|");
        let values = cells[1].trim_end_matches(" |").trim_end_matches(", …").replace('−', "-");
        let Ok(values) = values.split(", ").map(str::parse).collect::<Result<Vec<f64>, _>>() else {
            continue;
        };
        for (k, want) in values.into_iter().enumerate() {
            let x = (k + 1) as f64;
            check(&src, x, x, want);
        }
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} examples have values to check");
}

/// The deepest trees the limits allow, of every shape, are parsed, evaluated, bounded and
/// dropped within a test thread's stack (2 MiB, as the threads that reload a config and tick
/// have), in a debug build where frames are largest. The sources use every level of operator
/// inside each parenthesis, which makes the tree five times deeper than the nesting.
#[test]
fn the_deepest_expressions_fit_in_a_threads_stack() {
    // `-!2^` is three levels of nesting.
    let shapes =
        [("(0||1&&1<1+1*", ")", 256), ("sin(", ")", 256), ("if(1,", ",1)", 256), ("-!2^", "", 85), ("(1+1*", ")", 256)];
    for (open, close, deepest) in shapes {
        let src = format!("{}1{}", open.repeat(deepest), close.repeat(deepest));
        let expr = Expr::parse(&src).unwrap_or_else(|e| panic!("{open}: {e}"));
        expr.eval(1.0, 2.0);
        expr.finite_over((1.0, 2.0), (1.0, 2.0));
        drop(expr);
    }
}
