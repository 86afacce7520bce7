//! The load-time check of an expression against the snapshot's shape:
//! unknown variables, fields, functions and enum values are errors with a
//! position, found before any snapshot is evaluated. So are comparisons
//! (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`) between values of different
//! kinds, which CEL evaluates to a silent `false` (`==`) or an error (`<`):
//! a weekday (a name) compared with a number, a string ordered against a
//! number, a measurement compared with a number. An int and a double are
//! both numbers, as in CEL.
//!
//! The check follows the types it can know (a record's fields, a list's
//! elements, what a helper returns) and says nothing about what it cannot
//! (`dyn` values, map entries): it only rejects what is certainly wrong.

use std::collections::{BTreeMap, BTreeSet};

use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};

use crate::functions::{self, HELPERS};
use crate::schema::{self, Record, Ty};

/// Where in a text (an expression or a message) something is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Byte offset into the expression source.
    pub offset: usize,
    /// What is wrong, in one sentence.
    pub message: String,
}

/// Functions of the CEL standard library and the enabled extensions that are
/// called as `f(x)`.
const GLOBAL_FUNCTIONS: &[&str] = &[
    "size",
    "string",
    "int",
    "uint",
    "double",
    "bool",
    "bytes",
    "type",
    "dyn",
    "max",
    "min",
    "matches",
    "contains",
    "startsWith",
    "endsWith",
];

/// Namespaces of extension functions called as `ns.f(x)`.
const NAMESPACES: &[&str] = &["math", "lists", "strings", "optional"];

/// Functions called as `x.f(...)`.
const MEMBER_FUNCTIONS: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "replace",
    "split",
    "substring",
    "trim",
    "join",
    "charAt",
    "reverse",
    "distinct",
    "flatten",
    "sort",
    "sortBy",
    "slice",
    "hasValue",
    "value",
    "orValue",
    "or",
    "quote",
];

/// The variables an expression can name: the snapshot's top-level fields,
/// `stage` and `params`.
pub struct Scope {
    params: Ty,
    variables: BTreeMap<String, Ty>,
    locals: Vec<(String, Ty)>,
    reads: BTreeSet<String>,
    reads_all: bool,
}

/// The variables an expression reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// The names read as `variables.NAME`.
    pub names: BTreeSet<String>,
    /// Whether it uses `variables` as a whole, so that it may read any.
    pub all: bool,
}

impl Scope {
    /// The scope of a rule's expressions, with `params` typed from the
    /// configuration.
    pub fn new(params: &serde_json::Map<String, serde_json::Value>) -> Scope {
        Scope {
            params: Ty::Params(std::rc::Rc::new(
                params
                    .iter()
                    .map(|(key, value)| (key.clone(), Ty::of_json(value)))
                    .collect::<BTreeMap<_, _>>(),
            )),
            variables: BTreeMap::new(),
            locals: Vec::new(),
            reads: BTreeSet::new(),
            reads_all: false,
        }
    }

    /// The variables the expressions checked since the last call read.
    pub fn take_reads(&mut self) -> Reads {
        Reads {
            names: std::mem::take(&mut self.reads),
            all: std::mem::take(&mut self.reads_all),
        }
    }

    fn is_local(&self, name: &str) -> bool {
        self.locals.iter().any(|(local, _)| local == name)
    }

    /// Makes `variables.NAME` known to the expressions checked after it.
    pub fn define(&mut self, name: &str, ty: Ty) {
        self.variables.insert(name.to_owned(), ty);
    }

    fn lookup(&self, name: &str) -> Option<Ty> {
        if let Some((_, ty)) = self.locals.iter().rev().find(|(local, _)| local == name) {
            return Some(ty.clone());
        }
        match name {
            "stage" => Some(Ty::Enum("stage", schema::STAGES)),
            "params" => Some(self.params.clone()),
            "variables" => Some(Ty::Variables(std::rc::Rc::new(self.variables.clone()))),
            _ => schema::SNAPSHOT.field(name),
        }
    }
}

/// Checks `program` (compiled from `source`) and returns its type, or the
/// first problem found.
pub fn check(program: &cel::Program, scope: &mut Scope) -> Result<Ty, Problem> {
    let checker = Checker {
        info: program.source_info(),
        source: &program.source_info().source,
    };
    checker.expr(program.expression(), scope)
}

struct Checker<'a> {
    info: &'a cel::common::ast::SourceInfo,
    source: &'a str,
}

impl Checker<'_> {
    fn offset(&self, expr: &IdedExpr) -> usize {
        self.info
            .offset_for(expr.id)
            .map_or(0, |(start, _)| start as usize)
    }

    fn problem(&self, expr: &IdedExpr, message: String) -> Problem {
        Problem {
            offset: self.offset(expr),
            message,
        }
    }

    /// The offset of the field name of a selection `a.field`: the parser
    /// records the dot.
    fn field_offset(&self, expr: &IdedExpr, field: &str) -> usize {
        let dot = self.offset(expr);
        self.source
            .get(dot..)
            .and_then(|rest| rest.find(field))
            .map_or(dot, |at| dot + at)
    }

    fn expr(&self, expr: &IdedExpr, scope: &mut Scope) -> Result<Ty, Problem> {
        match &expr.expr {
            Expr::Unspecified => Ok(Ty::Dyn),
            Expr::Literal(literal) => Ok(match literal {
                LiteralValue::Boolean(_) => Ty::Bool,
                LiteralValue::Double(_) | LiteralValue::Int(_) | LiteralValue::UInt(_) => {
                    Ty::Number
                }
                LiteralValue::String(_) => Ty::String,
                LiteralValue::Null | LiteralValue::Bytes(_) => Ty::Dyn,
            }),
            Expr::Ident(name) => {
                // `variables` as a whole (not `variables.NAME`): it may read
                // any of them.
                if name == "variables" && !scope.is_local(name) {
                    scope.reads_all = true;
                }
                if name.starts_with('@') || name.starts_with("__") {
                    return Ok(scope.lookup(name).unwrap_or(Ty::Dyn));
                }
                scope.lookup(name).ok_or_else(|| {
                    self.problem(
                        expr,
                        format!(
                            "unknown name `{name}`; the names are the snapshot's fields ({}), \
                             `stage`, `params` and `variables`",
                            schema::SNAPSHOT.field_names()
                        ),
                    )
                })
            }
            Expr::Select(select) => {
                let names_a_variable = matches!(&select.operand.expr, Expr::Ident(name)
                    if name == "variables" && !scope.is_local(name));
                let operand = if names_a_variable {
                    scope.lookup("variables").unwrap_or(Ty::Dyn)
                } else {
                    self.expr(&select.operand, scope)?
                };
                if names_a_variable {
                    scope.reads.insert(select.field.clone());
                }
                let ty = self
                    .field(&operand, &select.field)
                    .map_err(|message| Problem {
                        offset: self.field_offset(expr, &select.field),
                        message,
                    })?;
                Ok(if select.test { Ty::Bool } else { ty })
            }
            Expr::List(list) => {
                let mut element = None;
                for item in &list.elements {
                    let ty = self.expr(item, scope)?;
                    element = match element {
                        None => Some(ty),
                        Some(previous) if previous == ty => Some(previous),
                        Some(_) => Some(Ty::Dyn),
                    };
                }
                Ok(Ty::List(Box::new(element.unwrap_or(Ty::Dyn))))
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(entry) = &entry.expr {
                        self.expr(&entry.key, scope)?;
                        self.expr(&entry.value, scope)?;
                    }
                }
                Ok(Ty::Map(Box::new(Ty::Dyn)))
            }
            Expr::Struct(_) => Err(self.problem(
                expr,
                "message literals are not supported: there are no message types".into(),
            )),
            Expr::Comprehension(comprehension) => {
                let range = self.expr(&comprehension.iter_range, scope)?;
                let (first, second) = match &range {
                    Ty::List(element) => (Ty::Number, (**element).clone()),
                    Ty::Map(value) => (Ty::String, (**value).clone()),
                    Ty::Params(_) | Ty::Variables(_) => (Ty::String, Ty::Dyn),
                    Ty::Dyn => (Ty::Dyn, Ty::Dyn),
                    other => {
                        return Err(self.problem(
                            &comprehension.iter_range,
                            format!("cannot iterate over {}", other.describe()),
                        ));
                    }
                };
                let iter_ty = if comprehension.iter_var2.is_some() {
                    first.clone()
                } else if matches!(range, Ty::List(_)) {
                    second.clone()
                } else {
                    first.clone()
                };
                let base = scope.locals.len();
                scope
                    .locals
                    .push((comprehension.iter_var.clone(), iter_ty.clone()));
                if let Some(var2) = &comprehension.iter_var2 {
                    scope.locals.push((var2.clone(), second.clone()));
                }
                let result = (|| {
                    let accu = self.expr(&comprehension.accu_init, scope)?;
                    scope
                        .locals
                        .push((comprehension.accu_var.clone(), accu.clone()));
                    self.expr(&comprehension.loop_cond, scope)?;
                    self.expr(&comprehension.loop_step, scope)?;
                    let result = self.expr(&comprehension.result, scope)?;
                    Ok((accu, result))
                })();
                scope.locals.truncate(base);
                let (accu, result) = result?;
                // `cel.bind(x, init, body)` and other comprehensions whose
                // result is an expression of its own, not the accumulator.
                if !matches!(&comprehension.result.expr, Expr::Ident(name) if *name == comprehension.accu_var)
                {
                    return Ok(result);
                }
                Ok(match accu {
                    Ty::Bool => Ty::Bool,
                    Ty::Number => Ty::Number,
                    Ty::List(_)
                        if appends_iter_var(&comprehension.loop_step, &comprehension.iter_var) =>
                    {
                        Ty::List(Box::new(iter_ty))
                    }
                    Ty::List(_) => Ty::List(Box::new(Ty::Dyn)),
                    _ => Ty::Dyn,
                })
            }
            Expr::Call(call) => {
                // `math.abs(x)`, `lists.range(n)`: an extension's function,
                // whose namespace parses as the call's target.
                if let Some(target) = &call.target
                    && let Expr::Ident(namespace) = &target.expr
                    && NAMESPACES.contains(&namespace.as_str())
                    && scope.lookup(namespace).is_none()
                {
                    for arg in &call.args {
                        self.expr(arg, scope)?;
                    }
                    return Ok(Ty::Dyn);
                }
                let target = match &call.target {
                    Some(target) => Some(self.expr(target, scope)?),
                    None => None,
                };
                let mut args = Vec::with_capacity(call.args.len());
                for arg in &call.args {
                    args.push(self.expr(arg, scope)?);
                }
                self.call(expr, &call.func_name, target.as_ref(), &call.args, &args)
            }
        }
    }

    fn field(&self, operand: &Ty, field: &str) -> Result<Ty, String> {
        match operand {
            Ty::Record(record) => record
                .field(field)
                .ok_or_else(|| unknown_field(record, field)),
            Ty::Variables(variables) => variables.get(field).cloned().ok_or_else(|| {
                format!(
                    "unknown variable `{field}`; {}",
                    if variables.is_empty() {
                        "no variable is defined before this expression".to_owned()
                    } else {
                        format!(
                            "the variables defined before this expression are {}",
                            variables.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    }
                )
            }),
            Ty::Params(params) => params.get(field).cloned().ok_or_else(|| {
                format!(
                    "unknown key `{field}` in `params`; its keys are {}",
                    if params.is_empty() {
                        "none (the config has no `params` table)".to_owned()
                    } else {
                        params.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                )
            }),
            Ty::Map(value) => Ok((**value).clone()),
            Ty::Dyn => Ok(Ty::Dyn),
            Ty::Measurement => Err(format!(
                "a measurement has no field `{field}` in expressions: use has_data(m), value(m), \
                 samples(m), ratio(canary, baseline) or missing_reason(m)"
            )),
            Ty::List(_) => Err(format!(
                "{} has no field `{field}`: use exists(), all(), filter() or map() on it",
                operand.describe()
            )),
            other => Err(format!("{} has no field `{field}`", other.describe())),
        }
    }

    fn call(
        &self,
        expr: &IdedExpr,
        name: &str,
        target: Option<&Ty>,
        arg_exprs: &[IdedExpr],
        args: &[Ty],
    ) -> Result<Ty, Problem> {
        match name {
            "_==_" | "_!=_" => {
                self.enum_literals(args, arg_exprs)?;
                self.comparison(expr, name, args, arg_exprs)?;
                return Ok(Ty::Bool);
            }
            "@in" => {
                if let (Some(Ty::Enum(what, names)), Some(list)) = (args.first(), arg_exprs.get(1))
                    && let Expr::List(list) = &list.expr
                {
                    for item in &list.elements {
                        self.enum_literal(what, names, item)?;
                    }
                }
                self.membership(expr, args, arg_exprs)?;
                return Ok(Ty::Bool);
            }
            "_<_" | "_<=_" | "_>_" | "_>=_" => {
                self.comparison(expr, name, args, arg_exprs)?;
                return Ok(Ty::Bool);
            }
            "_&&_" | "_||_" | "!_" | "@not_strictly_false" => {
                return Ok(Ty::Bool);
            }
            "_+_" => {
                return Ok(match args {
                    [Ty::String, _] | [_, Ty::String] => Ty::String,
                    [Ty::Number, Ty::Number] => Ty::Number,
                    [Ty::List(a), Ty::List(b)] if a == b => Ty::List(a.clone()),
                    [Ty::List(_), Ty::List(_)] => Ty::List(Box::new(Ty::Dyn)),
                    _ => Ty::Dyn,
                });
            }
            "_-_" | "_*_" | "_/_" | "_%_" | "-_" => return Ok(Ty::Number),
            "_?_:_" => {
                return Ok(match args {
                    [_, a, b] if a == b => a.clone(),
                    _ => Ty::Dyn,
                });
            }
            // `a.?b`: an optional value.
            "_?._" => return Ok(Ty::Dyn),
            "_[_]" | "_[?_]" => {
                return Ok(match args.first() {
                    Some(Ty::List(element)) => (**element).clone(),
                    Some(Ty::Map(value)) => (**value).clone(),
                    _ => Ty::Dyn,
                });
            }
            _ => {}
        }
        if target.is_some() {
            // Macros expand to internal functions (`sortBy` to
            // `@sortByAssociatedKeys`): the parser made them, not the author.
            if !MEMBER_FUNCTIONS.contains(&name) && !name.starts_with('@') {
                return Err(self.problem(
                    expr,
                    format!(
                        "unknown method `{name}`; the methods are {}",
                        MEMBER_FUNCTIONS.join(", ")
                    ),
                ));
            }
            return Ok(match name {
                "size" | "indexOf" | "lastIndexOf" => Ty::Number,
                "contains" | "startsWith" | "endsWith" | "matches" | "hasValue" => Ty::Bool,
                "lowerAscii" | "upperAscii" | "replace" | "substring" | "trim" | "join"
                | "charAt" | "quote" => Ty::String,
                "split" => Ty::List(Box::new(Ty::String)),
                "reverse" | "distinct" | "sort" | "sortBy" | "slice" => {
                    target.cloned().unwrap_or(Ty::Dyn)
                }
                _ => Ty::Dyn,
            });
        }
        if let Some(helper) = HELPERS.iter().find(|helper| helper.name == name) {
            if args.len() != helper.arity {
                return Err(self.problem(
                    expr,
                    format!(
                        "`{name}` takes {} argument{}: {}",
                        helper.arity,
                        if helper.arity == 1 { "" } else { "s" },
                        helper.signature
                    ),
                ));
            }
            for (index, (want, got)) in helper.params.iter().zip(args).enumerate() {
                if !functions::accepts(want, got) {
                    return Err(Problem {
                        offset: arg_exprs.get(index).map_or(0, |arg| self.offset(arg)),
                        message: format!(
                            "`{name}` wants {} as argument {}, got {}: {}",
                            want.describe(),
                            index + 1,
                            got.describe(),
                            helper.signature
                        ),
                    });
                }
            }
            return Ok((helper.returns)());
        }
        if GLOBAL_FUNCTIONS.contains(&name) {
            return Ok(match name {
                "size" | "int" | "uint" | "double" | "max" | "min" => Ty::Number,
                "string" => Ty::String,
                "bool" | "matches" | "contains" | "startsWith" | "endsWith" => Ty::Bool,
                _ => Ty::Dyn,
            });
        }
        if let Some((namespace, _)) = name.split_once('.')
            && NAMESPACES.contains(&namespace)
        {
            return Ok(Ty::Dyn);
        }
        Err(self.problem(
            expr,
            format!(
                "unknown function `{name}`; Shipgate's helpers are {}",
                HELPERS
                    .iter()
                    .map(|helper| helper.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }

    /// `a OP b` for a comparison operator: two values of different kinds
    /// (a string and a number, say) are never equal in CEL, and cannot be
    /// ordered (the rule fails when evaluated); lists and maps cannot be
    /// ordered either. An int and a double compare as numbers.
    fn comparison(
        &self,
        expr: &IdedExpr,
        operator: &str,
        args: &[Ty],
        arg_exprs: &[IdedExpr],
    ) -> Result<(), Problem> {
        let ([left, right], [left_expr, right_expr]) = (args, arg_exprs) else {
            return Ok(());
        };
        let ordering = !matches!(operator, "_==_" | "_!=_");
        let symbol = operator.trim_matches('_');
        // The literal side is where the mistake usually is.
        let at = if matches!(right_expr.expr, Expr::Literal(_)) {
            right_expr
        } else if matches!(left_expr.expr, Expr::Literal(_)) {
            left_expr
        } else {
            expr
        };
        let problem = |message: String| Err(self.problem(at, message));
        if ordering {
            for side in [left, right] {
                if matches!(side, Ty::Measurement) || Kind::of(side).is_some_and(|k| !k.orders()) {
                    return problem(format!(
                        "`{symbol}` cannot order {}: it fails when the rule is evaluated{}",
                        side.describe(),
                        measurement_hint(side)
                    ));
                }
            }
        }
        let differ = match (left, right) {
            // A measurement is `{"value": x}`, a series, or the string
            // `"no-data"`: never a number, a bool or a list.
            (Ty::Measurement, other) | (other, Ty::Measurement) => matches!(
                Kind::of(other),
                Some(Kind::Number | Kind::Bool | Kind::List)
            ),
            _ => matches!((Kind::of(left), Kind::of(right)), (Some(a), Some(b)) if a != b),
        };
        if !differ {
            return Ok(());
        }
        let consequence = match operator {
            "_==_" => "so it is never true",
            "_!=_" => "so it is always true",
            _ => "which fails when the rule is evaluated",
        };
        let values = [left, right]
            .into_iter()
            .find_map(|side| match side {
                Ty::Enum(_, names) => Some(format!("; the values are {}", names.join(", "))),
                _ => None,
            })
            .unwrap_or_default();
        let hint = format!("{}{}", measurement_hint(left), measurement_hint(right));
        problem(format!(
            "`{symbol}` compares {} with {}, {consequence}{values}{hint}",
            left.describe(),
            right.describe()
        ))
    }

    /// `x in container`: the container must be a list or a map, and `x` of
    /// the kind of its elements (a map's keys are strings here), or the
    /// test is never true.
    fn membership(
        &self,
        expr: &IdedExpr,
        args: &[Ty],
        arg_exprs: &[IdedExpr],
    ) -> Result<(), Problem> {
        let ([needle, container], [needle_expr, container_expr]) = (args, arg_exprs) else {
            return Ok(());
        };
        let Some(wanted) = Kind::of(needle) else {
            return Ok(());
        };
        let at = |e: &IdedExpr| {
            if matches!(e.expr, Expr::Literal(_)) {
                self.offset(e)
            } else {
                self.offset(expr)
            }
        };
        let elements: Vec<(&Ty, &IdedExpr)> = match (container, &container_expr.expr) {
            // A list literal: each element, at its own position.
            (_, Expr::List(list)) => list
                .elements
                .iter()
                .filter_map(|item| literal_ty(item).map(|ty| (ty, item)))
                .collect(),
            (Ty::List(element), _) => vec![(&**element, needle_expr)],
            // A map's keys (the snapshot's maps have string keys).
            (Ty::Map(_) | Ty::Record(_) | Ty::Params(_) | Ty::Variables(_), _) => {
                vec![(&Ty::String, needle_expr)]
            }
            (Ty::Dyn | Ty::Measurement, _) => Vec::new(),
            (other, _) => {
                return Err(Problem {
                    offset: at(container_expr),
                    message: format!(
                        "`in` looks in a list or a map, not in {}: it fails when the rule is \
                         evaluated{}",
                        other.describe(),
                        if matches!(other, Ty::String | Ty::Enum(..)) {
                            " (for a substring, use contains())"
                        } else {
                            ""
                        }
                    ),
                });
            }
        };
        for (element, at_expr) in elements {
            if let Some(kind) = Kind::of(element)
                && kind != wanted
            {
                return Err(Problem {
                    offset: at(at_expr),
                    message: format!(
                        "`in` looks for {} in {}, so it is never true",
                        needle.describe(),
                        if matches!(container, Ty::List(_))
                            || matches!(container_expr.expr, Expr::List(_))
                        {
                            Ty::List(Box::new(element.clone())).describe()
                        } else {
                            format!("the string keys of {}", container.describe())
                        }
                    ),
                });
            }
        }
        Ok(())
    }

    /// `x == 'literal'` where `x` is an enum: the literal must be one of its
    /// values.
    fn enum_literals(&self, args: &[Ty], arg_exprs: &[IdedExpr]) -> Result<(), Problem> {
        for (ty, other) in [
            (args.first(), arg_exprs.get(1)),
            (args.get(1), arg_exprs.first()),
        ] {
            if let (Some(Ty::Enum(what, names)), Some(other)) = (ty, other) {
                self.enum_literal(what, names, other)?;
            }
        }
        Ok(())
    }

    fn enum_literal(&self, what: &str, names: &[&str], expr: &IdedExpr) -> Result<(), Problem> {
        if let Expr::Literal(LiteralValue::String(value)) = &expr.expr
            && !names.contains(&value.inner())
        {
            return Err(self.problem(
                expr,
                format!(
                    "`{}` is not a {what}; the values are {}",
                    value.inner(),
                    names.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// What a value is when a comparison evaluates it: CEL compares values of
/// one kind (an int and a double are both numbers); `None` when the checker
/// cannot tell (`dyn`, a measurement, which is a map or the string
/// `"no-data"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Number,
    /// Strings, enum values and timestamps (RFC 3339 strings).
    String,
    List,
    /// Maps and the snapshot's records.
    Map,
}

impl Kind {
    fn of(ty: &Ty) -> Option<Kind> {
        match ty {
            Ty::Bool => Some(Kind::Bool),
            Ty::Number => Some(Kind::Number),
            Ty::String | Ty::Enum(..) | Ty::Timestamp => Some(Kind::String),
            Ty::List(_) => Some(Kind::List),
            Ty::Map(_) | Ty::Record(_) | Ty::Params(_) | Ty::Variables(_) => Some(Kind::Map),
            Ty::Measurement | Ty::Dyn => None,
        }
    }

    /// Whether `<` and friends are defined on it.
    fn orders(self) -> bool {
        matches!(self, Kind::Bool | Kind::Number | Kind::String)
    }
}

/// The type of a literal: the elements of a list literal are checked one by
/// one, at their own positions.
fn literal_ty(expr: &IdedExpr) -> Option<&'static Ty> {
    match &expr.expr {
        Expr::Literal(LiteralValue::Boolean(_)) => Some(&Ty::Bool),
        Expr::Literal(LiteralValue::Double(_) | LiteralValue::Int(_) | LiteralValue::UInt(_)) => {
            Some(&Ty::Number)
        }
        Expr::Literal(LiteralValue::String(_)) => Some(&Ty::String),
        _ => None,
    }
}

/// What to write instead of comparing a measurement.
fn measurement_hint(ty: &Ty) -> &'static str {
    if matches!(ty, Ty::Measurement) {
        " (use value(m) for a measurement's number, has_data(m) to test it has one)"
    } else {
        ""
    }
}

/// Whether a comprehension's step appends its iteration variable (`filter`)
/// rather than something computed from it (`map`).
fn appends_iter_var(step: &IdedExpr, iter_var: &str) -> bool {
    fn walk(expr: &IdedExpr, iter_var: &str) -> bool {
        match &expr.expr {
            Expr::Call(call) => {
                (call.func_name == "_+_"
                    && call.args.iter().any(|arg| match &arg.expr {
                        Expr::List(list) => {
                            list.elements.len() == 1
                                && matches!(&list.elements[0].expr, Expr::Ident(name) if name == iter_var)
                        }
                        _ => false,
                    }))
                    || call.args.iter().any(|arg| walk(arg, iter_var))
            }
            _ => false,
        }
    }
    walk(step, iter_var)
}

fn unknown_field(record: &'static Record, field: &str) -> String {
    let suggestion = record
        .fields
        .iter()
        .map(|(name, _)| (edit_distance(name, field), *name))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, name)| format!(" (did you mean `{name}`?)"))
        .unwrap_or_default();
    format!(
        "unknown field `{field}` on {}{suggestion}; its fields are {}",
        Ty::Record(record).describe(),
        record.field_names()
    )
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let deletion = previous[j + 1] + 1;
            let insertion = current[j] + 1;
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}
