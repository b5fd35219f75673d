//! Custom policies in Rego, evaluated by `regorus`. The module is parsed and the query
//! checked once, at load; each evaluation clones the prepared engine (its modules are
//! shared behind reference counts) and sets `input` = `{pod, namespace, cluster, facts}`.
//! The query returns a set or array of violation messages; empty passes.
//!
//! Bounds: the module's size (the loader's limit and regorus' own policy length limits),
//! and a cooperative wall-clock limit on each evaluation ([`EVALUATION_LIMIT`]), after
//! which the verdict is unknown. regorus can cap memory only through a global allocator
//! (its `allocator-memory-limits` feature), which a library must not choose; the input and
//! the module being bounded is what keeps memory in hand.

use crate::facts::Input;
use crate::verdict::{Verdict, Violation};
use regorus::utils::limits::{ExecutionTimerConfig, PolicyLengthConfig};
use regorus::{Engine, Value};
use serde::{Serialize, Serializer};
use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

/// The longest one Rego evaluation may run before its verdict becomes unknown.
pub const EVALUATION_LIMIT: Duration = Duration::from_millis(50);

/// A compiled Rego rule.
#[derive(Debug, Clone)]
pub struct RegoRule {
    engine: Engine,
    module: String,
    query: String,
}

impl Serialize for RegoRule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Source<'a> {
            module: &'a str,
            query: &'a str,
        }
        Source {
            module: &self.module,
            query: &self.query,
        }
        .serialize(s)
    }
}

/// `input` for Rego, built at most once per evaluation and shared by every Rego policy.
#[derive(Debug, Default)]
pub(crate) struct LazyInput(Option<Result<Value, String>>);

impl LazyInput {
    pub fn get(&mut self, input: &Input) -> &Result<Value, String> {
        self.0.get_or_insert_with(|| {
            serde_json::to_value(input)
                .map(Value::from)
                .map_err(|e| format!("the input cannot be given to Rego: {e}"))
        })
    }
}

impl RegoRule {
    /// Parses the module and runs the query once on an empty input: a module that does not
    /// parse, or a query that is not a set or array of messages, fails here.
    pub fn compile(module: &str, query: &str, max_module_bytes: usize) -> Result<RegoRule, String> {
        let mut engine = Engine::new();
        let max_file_bytes = NonZeroUsize::new(max_module_bytes.max(1)).ok_or("no module size")?;
        engine.set_policy_length_config(PolicyLengthConfig {
            max_file_bytes,
            ..PolicyLengthConfig::default()
        });
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: EVALUATION_LIMIT,
            check_interval: NonZeroU32::MIN,
        });
        engine
            .add_policy("policy.rego".into(), module.to_owned())
            .map_err(|e| format!("{e}"))?;
        engine.set_input(Value::new_object());
        let results = engine
            .eval_query(query.to_owned(), false)
            .map_err(|e| format!("{e}"))?;
        messages(results).map_err(|e| format!("on an empty input, {e}"))?;
        Ok(RegoRule {
            engine,
            module: module.to_owned(),
            query: query.to_owned(),
        })
    }

    pub(crate) fn evaluate(&self, input: &Result<Value, String>) -> Verdict {
        let input = match input {
            Ok(i) => i,
            Err(e) => return Verdict::Unknown(vec![e.clone()]),
        };
        let mut engine = self.engine.clone();
        engine.set_input(input.clone());
        let found = engine
            .eval_query(self.query.clone(), false)
            .map_err(|e| format!("the Rego query failed: {e}"))
            .and_then(messages);
        match found {
            Ok(m) if m.is_empty() => Verdict::Pass,
            Ok(m) => Verdict::Violation(
                m.into_iter()
                    .map(|m| Violation::new(None, "rego", m))
                    .collect(),
            ),
            Err(e) => Verdict::Unknown(vec![e]),
        }
    }
}

/// The messages a query returned: strings as they are, anything else as its JSON.
fn messages(results: regorus::QueryResults) -> Result<Vec<String>, String> {
    if results.result.is_empty() {
        return Err(
            "the query is undefined; it must return a set or array of messages (data.PACKAGE.deny)"
                .into(),
        );
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.to_string(),
        other => other
            .to_json_str()
            .unwrap_or_else(|_| "<a message that is not JSON>".into()),
    };
    let mut out = Vec::new();
    for e in results.result.iter().flat_map(|r| &r.expressions) {
        match &e.value {
            Value::Set(s) => out.extend(s.iter().map(text)),
            Value::Array(a) => out.extend(a.iter().map(text)),
            other => {
                let kind = other.to_json_str().unwrap_or_default();
                return Err(format!(
                    "the query returned {kind}, not a set or array of messages"
                ));
            }
        }
    }
    Ok(out)
}
