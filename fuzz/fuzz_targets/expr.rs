//! Fuzzes the expression language: parsing any text gives an expression or an error whose column
//! lies within the text and whose rendering (message, source, caret) stays three short lines;
//! evaluating a parsed expression anywhere never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metrics_generator::expr::Expr;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match Expr::parse(src) {
        Ok(expr) => {
            for (i, n) in
                [(1.0, 1.0), (0.0, 0.0), (2.0, 1e6), (1e15, 1e19), (f64::MAX, -1.0), (f64::NAN, f64::INFINITY)]
            {
                let _ = expr.eval(i, n);
            }
        }
        Err(e) => {
            let chars = src.chars().count();
            assert!(e.column >= 1 && e.column <= chars.min(4096) + 1, "column {} of {chars}", e.column);
            let shown = e.render(src);
            let lines: Vec<&str> = shown.split('\n').collect();
            assert_eq!(lines.len(), 3, "{shown:?}");
            assert!(!shown.chars().any(|c| c.is_control() && c != '\n'), "control character in {shown:?}");
            assert!(lines[1].chars().count() <= 84 && lines[2].chars().count() <= 84, "{shown:?}");
        }
    }
});
