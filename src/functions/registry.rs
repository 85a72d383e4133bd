//! The [`Registry`] of named functions: how Rust code registers one, how a config entry's
//! `custom_function` and `params` become a [`Factory`], and the text of `--list-functions`.

use super::{builtin, index_factory, Factory, Params};
use crate::text::quoted;
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// The documentation of one parameter a function accepts.
#[derive(Debug, Clone)]
pub struct ParamDoc {
    /// The key in the entry's `params` object.
    pub name: &'static str,
    /// What it means, with its type and default, in a few words.
    pub doc: &'static str,
}

type Build = dyn Fn(&Params) -> Result<Factory, String> + Send + Sync;

/// A registered function: its name, a one-line description, the params it takes and how to build it.
pub struct FunctionDef {
    name: String,
    description: String,
    params: Vec<ParamDoc>,
    build: Box<Build>,
}

impl FunctionDef {
    /// The name used in `custom_function`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The one-line description shown by `--list-functions`.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The params this function accepts; any other key is a config error.
    pub fn params(&self) -> &[ParamDoc] {
        &self.params
    }
}

/// The set of functions a config can name. Built-ins come from [`Registry::builtin`]; Rust code adds
/// its own with [`Registry::register_fn`] or [`Registry::register`].
pub struct Registry {
    defs: Vec<FunctionDef>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Registry {
    /// A registry with no functions at all.
    pub fn empty() -> Self {
        Registry { defs: Vec::new() }
    }

    /// A registry holding every built-in function. Each one is a function of `i`, the position in
    /// the current cycle, so `reset_interval` and restarts apply to all of them alike; only `expr`
    /// can also read `n`, the tick number that never resets.
    pub fn builtin() -> Self {
        let mut r = Registry::empty();
        builtin::register_all(&mut r);
        r
    }

    /// Registers a function of the position `i` alone (1, 2, 3, … within a cycle), with no params.
    /// This is the one call to add a function in Rust; a function of the same name is replaced.
    ///
    /// ```
    /// let mut registry = metrics_generator::Registry::builtin();
    /// registry.register_fn("cube", "i³: 1, 8, 27, …", |i| (i as f64).powi(3));
    /// ```
    pub fn register_fn<F>(&mut self, name: &str, description: &str, f: F)
    where
        F: Fn(u64) -> f64 + Copy + Send + Sync + 'static,
    {
        self.register(name, description, &[], move |_| Ok(index_factory(f)));
    }

    /// Registers a function with params and state of its own: `build` reads the params (through the
    /// typed getters of [`Params`], whose errors name the param) and returns a [`Factory`].
    /// Keys not listed in `params` are rejected before `build` runs. A function of the same name is
    /// replaced.
    pub fn register<B>(&mut self, name: &str, description: &str, params: &[ParamDoc], build: B)
    where
        B: Fn(&Params) -> Result<Factory, String> + Send + Sync + 'static,
    {
        let def = FunctionDef {
            name: name.to_string(),
            description: description.to_string(),
            params: params.to_vec(),
            build: Box::new(build),
        };
        match self.defs.iter_mut().find(|d| d.name == name) {
            Some(existing) => *existing = def,
            None => self.defs.push(def),
        }
    }

    /// Looks a function up by name.
    pub fn get(&self, name: &str) -> Option<&FunctionDef> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// Every registered function, sorted by name.
    pub fn functions(&self) -> Vec<&FunctionDef> {
        let mut defs: Vec<&FunctionDef> = self.defs.iter().collect();
        defs.sort_by(|a, b| a.name.cmp(&b.name));
        defs
    }

    /// The registered names, sorted and comma-separated, for error messages.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.functions().iter().map(|d| d.name()).collect();
        names.join(", ")
    }

    /// Builds the factory for `name` with `params`; the error names the unknown param or says what
    /// is wrong with a known one. Returns `None` when no function has that name.
    pub fn build(&self, name: &str, params: Option<&Map<String, Value>>) -> Option<Result<Factory, String>> {
        let def = self.get(name)?;
        if let Some(map) = params {
            if let Some(key) = map.keys().find(|k| !def.params.iter().any(|p| p.name == k.as_str())) {
                let known = if def.params.is_empty() {
                    format!("{name} takes no params")
                } else {
                    let names: Vec<&str> = def.params.iter().map(|p| p.name).collect();
                    format!("{name} takes: {}", names.join(", "))
                };
                return Some(Err(format!("unknown param {} ({known})", quoted(key))));
            }
        }
        Some((def.build)(&Params { map: params }))
    }

    /// The text of `--list-functions`: one line per function, then one indented line per param.
    pub fn describe(&self) -> String {
        let defs = self.functions();
        let width = defs.iter().map(|d| d.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for d in defs {
            let _ = writeln!(out, "{:width$}  {}", d.name, d.description);
            for p in &d.params {
                let _ = writeln!(out, "{:width$}    {}: {}", "", p.name, p.doc);
            }
        }
        out
    }
}
