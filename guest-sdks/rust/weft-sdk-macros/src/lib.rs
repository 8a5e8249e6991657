//! The `#[flow]` and `#[task]` attributes of `weft-sdk`.
//!
//! Use them through `weft_sdk` (`use weft_sdk::prelude::*;`), not directly:
//! the code they generate refers to `::weft_sdk`.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Error, Expr, ExprLit, FnArg, GenericArgument, Ident, ItemFn, Lit, Meta, Pat,
    PathArguments, ReturnType, Token, Type, Visibility,
};

/// Marks a function as a weft flow.
///
/// `#[flow]` or `#[flow(name = "...")]`; the default name is the function's
/// name with `_` replaced by `-`. Arguments are the flow's parameters,
/// decoded with serde from the parameters object keyed by argument names
/// (`Option<T>` arguments may be missing). The return type may be `()`, any
/// `T: Serialize`, or `Result<T, E: Display>` (an `Err` fails the run).
///
/// Options: `name`, `retries` (flow run retries after a failed attempt),
/// `retry_delay_ms` (a number or a list), `retry_backoff`,
/// `retry_jitter_factor`, and `timeout_ms` (per attempt: a run over it
/// ends Failed, named TimedOut). On a retry, task calls that completed in
/// an earlier attempt return their recorded result instead of running
/// again. A deployment may override retries, delay and timeout.
#[proc_macro_attribute]
pub fn flow(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr, item, Kind::Flow)
}

/// Marks a function as a weft task.
///
/// Calling the function runs it as a task run on the host and returns its
/// success value (panicking if the task run ends in error); the generated
/// module of the same name has `submit`, `try_call`, `options` and `NAME`.
/// Options: `name`, `retries`, `retry_delay_ms` (a number or a list),
/// `retry_backoff`, `retry_jitter_factor`, `cache`, `cache_key`,
/// `cache_expiration` (seconds), `timeout_ms`, `tags`.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr, item, Kind::Task)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Flow,
    Task,
}

fn expand(attr: TokenStream, item: TokenStream, kind: Kind) -> TokenStream {
    let result = (|| -> syn::Result<TokenStream2> {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse(attr)?;
        let func: ItemFn = syn::parse(item)?;
        let options = Options::parse(&metas, kind)?;
        let sig = Signature::parse(&func)?;
        Ok(match kind {
            Kind::Flow => expand_flow(&func, &sig, &options),
            Kind::Task => expand_task(&func, &sig, &options),
        })
    })();
    match result {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// The attribute's options.
#[derive(Default)]
struct Options {
    name: Option<String>,
    retries: Option<u32>,
    retry_delays: Option<Vec<u64>>,
    retry_backoff: Option<f64>,
    retry_jitter: Option<f64>,
    cache: bool,
    cache_key: Option<String>,
    cache_expiration: Option<u64>,
    timeout_ms: Option<u64>,
    tags: Vec<String>,
}

fn lit_of(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(group) => lit_of(&group.expr),
        _ => None,
    }
}

fn string_of(expr: &Expr) -> syn::Result<String> {
    match lit_of(expr) {
        Some(Lit::Str(s)) => Ok(s.value()),
        _ => Err(Error::new(expr.span(), "expected a string literal")),
    }
}

fn int_of<T: std::str::FromStr>(expr: &Expr) -> syn::Result<T>
where
    T::Err: std::fmt::Display,
{
    match lit_of(expr) {
        Some(Lit::Int(i)) => i.base10_parse(),
        _ => Err(Error::new(expr.span(), "expected an integer literal")),
    }
}

fn float_of(expr: &Expr) -> syn::Result<f64> {
    match lit_of(expr) {
        Some(Lit::Float(f)) => f.base10_parse(),
        Some(Lit::Int(i)) => i.base10_parse(),
        _ => Err(Error::new(expr.span(), "expected a number literal")),
    }
}

fn list_of<T>(expr: &Expr, item: impl Fn(&Expr) -> syn::Result<T>) -> syn::Result<Vec<T>> {
    match expr {
        Expr::Array(array) => array.elems.iter().map(item).collect(),
        _ => Err(Error::new(expr.span(), "expected a list, e.g. [1, 2]")),
    }
}

/// The options `#[flow]` accepts.
const FLOW_OPTIONS: [&str; 6] = [
    "name",
    "retries",
    "retry_delay_ms",
    "retry_backoff",
    "retry_jitter_factor",
    "timeout_ms",
];

impl Options {
    /// The retries as the `(retries, delays, backoff, jitter)` tuple the
    /// generated code passes on, or `None`.
    fn retries_tokens(&self) -> TokenStream2 {
        match self.retries {
            Some(retries) => {
                let delays = self.retry_delays.clone().unwrap_or_default();
                let backoff = self.retry_backoff.unwrap_or(1.0);
                let jitter = self.retry_jitter.unwrap_or(0.0);
                quote!(::core::option::Option::Some((#retries, &[#(#delays),*], #backoff, #jitter)))
            }
            None => quote!(::core::option::Option::None),
        }
    }

    fn parse(metas: &Punctuated<Meta, Token![,]>, kind: Kind) -> syn::Result<Options> {
        let mut options = Options::default();
        for meta in metas {
            let key = meta
                .path()
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            if kind == Kind::Flow && !FLOW_OPTIONS.contains(&key.as_str()) {
                return Err(Error::new(
                    meta.span(),
                    "unknown #[flow] option (expected name, retries, retry_delay_ms, \
                     retry_backoff, retry_jitter_factor or timeout_ms)",
                ));
            }
            match meta {
                Meta::Path(_) if key == "cache" => options.cache = true,
                Meta::NameValue(nv) => {
                    let value = &nv.value;
                    match key.as_str() {
                        "name" => options.name = Some(string_of(value)?),
                        "retries" => options.retries = Some(int_of(value)?),
                        "retry_delay_ms" => {
                            options.retry_delays = Some(match value {
                                Expr::Array(_) => list_of(value, int_of)?,
                                _ => vec![int_of(value)?],
                            })
                        }
                        "retry_backoff" => options.retry_backoff = Some(float_of(value)?),
                        "retry_jitter_factor" => options.retry_jitter = Some(float_of(value)?),
                        "cache" => {
                            return Err(Error::new(
                                meta.span(),
                                "`cache` is a flag: write `cache` (or `cache_key = \"...\"`, `cache_expiration = SECS`)",
                            ));
                        }
                        "cache_key" => options.cache_key = Some(string_of(value)?),
                        "cache_expiration" => options.cache_expiration = Some(int_of(value)?),
                        "timeout_ms" => options.timeout_ms = Some(int_of(value)?),
                        "tags" => options.tags = list_of(value, string_of)?,
                        _ => return Err(unknown_option(meta)),
                    }
                }
                _ => return Err(unknown_option(meta)),
            }
        }
        if options.retries.is_none()
            && (options.retry_delays.is_some()
                || options.retry_backoff.is_some()
                || options.retry_jitter.is_some())
        {
            return Err(Error::new(
                Span::call_site(),
                "retry_delay_ms, retry_backoff and retry_jitter_factor need `retries = N`",
            ));
        }
        Ok(options)
    }

    fn tokens(&self) -> TokenStream2 {
        let retries = self.retries_tokens();
        let cache = if self.cache || self.cache_key.is_some() || self.cache_expiration.is_some() {
            let key = optional(self.cache_key.as_ref().map(|key| quote!(#key)));
            let expiration = optional(self.cache_expiration.map(|secs| quote!(#secs)));
            quote!(::core::option::Option::Some((#key, #expiration)))
        } else {
            quote!(::core::option::Option::None)
        };
        let timeout = optional(self.timeout_ms.map(|ms| quote!(#ms)));
        let tags = &self.tags;
        quote!(::weft_sdk::__private::options(#retries, #cache, #timeout, &[#(#tags),*]))
    }
}

fn optional(value: Option<TokenStream2>) -> TokenStream2 {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn unknown_option(meta: &Meta) -> Error {
    Error::new(
        meta.span(),
        "unknown #[task] option (expected name, retries, retry_delay_ms, retry_backoff, \
         retry_jitter_factor, cache, cache_key, cache_expiration, timeout_ms or tags)",
    )
}

/// What the return type is, for encoding results.
enum Returns {
    /// `()` or nothing.
    Unit,
    /// `Result<T, E>`: the `Ok` type.
    Result(Type),
    /// Any other type.
    Value(Type),
}

struct Arg {
    ident: Ident,
    ty: Type,
}

struct Signature {
    args: Vec<Arg>,
    returns: Returns,
}

impl Signature {
    fn parse(func: &ItemFn) -> syn::Result<Signature> {
        let sig = &func.sig;
        if let Some(token) = &sig.asyncness {
            return Err(Error::new(
                token.span(),
                "weft flows and tasks cannot be async",
            ));
        }
        if !sig.generics.params.is_empty() {
            return Err(Error::new(
                sig.generics.span(),
                "weft flows and tasks cannot be generic",
            ));
        }
        let mut args = Vec::new();
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(receiver) => {
                    return Err(Error::new(
                        receiver.span(),
                        "weft flows and tasks must be free functions",
                    ));
                }
                FnArg::Typed(typed) => match &*typed.pat {
                    Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                        args.push(Arg {
                            ident: pat.ident.clone(),
                            ty: (*typed.ty).clone(),
                        });
                    }
                    other => {
                        return Err(Error::new(
                            other.span(),
                            "arguments of weft flows and tasks must be plain names",
                        ));
                    }
                },
            }
        }
        let returns = match &sig.output {
            ReturnType::Default => Returns::Unit,
            ReturnType::Type(_, ty) => match &**ty {
                Type::Tuple(tuple) if tuple.elems.is_empty() => Returns::Unit,
                ty => match result_ok_type(ty) {
                    Some(ok) => Returns::Result(ok),
                    None => Returns::Value(ty.clone()),
                },
            },
        };
        Ok(Signature { args, returns })
    }

    fn idents(&self) -> Vec<&Ident> {
        self.args.iter().map(|arg| &arg.ident).collect()
    }

    fn types(&self) -> Vec<&Type> {
        self.args.iter().map(|arg| &arg.ty).collect()
    }

    /// The value a call produces: `T` for `T` and `Result<T, E>`.
    fn success_type(&self) -> TokenStream2 {
        match &self.returns {
            Returns::Unit => quote!(()),
            Returns::Result(ty) | Returns::Value(ty) => quote!(#ty),
        }
    }

    /// Encodes `value` (the function's return value) as the export's result.
    fn encode(&self, value: TokenStream2) -> TokenStream2 {
        match self.returns {
            Returns::Result(_) => quote!(::weft_sdk::__private::output_result(#value)),
            _ => quote!(::weft_sdk::__private::output(#value)),
        }
    }
}

/// The `Ok` type of a `Result<T, ...>` (by its last path segment).
fn result_ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    })
}

/// The doc comment, as the description.
fn description(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) => match lit_of(&nv.value) {
                Some(Lit::Str(s)) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_owned()
        })
        .collect();
    lines.join("\n").trim().to_owned()
}

/// A JSON Schema for a Rust type, from its syntax.
fn schema_of(ty: &Type) -> String {
    match ty {
        Type::Reference(reference) => schema_of(&reference.elem),
        Type::Paren(paren) => schema_of(&paren.elem),
        Type::Group(group) => schema_of(&group.elem),
        Type::Array(array) => array_schema(&array.elem),
        Type::Slice(slice) => array_schema(&slice.elem),
        Type::Tuple(tuple) if tuple.elems.is_empty() => r#"{"type":"null"}"#.to_owned(),
        Type::Tuple(_) => r#"{"type":"array"}"#.to_owned(),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return "{}".to_owned();
            };
            let generic_types: Vec<&Type> = match &last.arguments {
                PathArguments::AngleBracketed(args) => args
                    .args
                    .iter()
                    .filter_map(|arg| match arg {
                        GenericArgument::Type(ty) => Some(ty),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let name = last.ident.to_string();
            match (name.as_str(), generic_types.as_slice()) {
                (
                    "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
                    | "u128" | "usize",
                    [],
                ) => r#"{"type":"integer"}"#.to_owned(),
                ("f32" | "f64", []) => r#"{"type":"number"}"#.to_owned(),
                ("bool", []) => r#"{"type":"boolean"}"#.to_owned(),
                ("String" | "str" | "char", []) => r#"{"type":"string"}"#.to_owned(),
                ("Option", [inner]) => {
                    format!(r#"{{"anyOf":[{},{{"type":"null"}}]}}"#, schema_of(inner))
                }
                ("Vec" | "VecDeque" | "HashSet" | "BTreeSet", [inner]) => array_schema(inner),
                ("HashMap" | "BTreeMap", [_, value]) => {
                    format!(
                        r#"{{"type":"object","additionalProperties":{}}}"#,
                        schema_of(value)
                    )
                }
                ("Box" | "Rc" | "Arc" | "Cow", [inner]) => schema_of(inner),
                _ => "{}".to_owned(),
            }
        }
        _ => "{}".to_owned(),
    }
}

fn array_schema(item: &Type) -> String {
    format!(r#"{{"type":"array","items":{}}}"#, schema_of(item))
}

fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == "Option"),
        Type::Group(group) => is_option(&group.elem),
        Type::Paren(paren) => is_option(&paren.elem),
        _ => false,
    }
}

fn parameter_schema(sig: &Signature) -> String {
    let properties: Vec<String> = sig
        .args
        .iter()
        .map(|arg| format!(r#""{}":{}"#, unraw(&arg.ident), schema_of(&arg.ty)))
        .collect();
    let required: Vec<String> = sig
        .args
        .iter()
        .filter(|arg| !is_option(&arg.ty))
        .map(|arg| format!(r#""{}""#, unraw(&arg.ident)))
        .collect();
    format!(
        r#"{{"type":"object","properties":{{{}}},"required":[{}]}}"#,
        properties.join(","),
        required.join(",")
    )
}

/// An identifier as written in JSON (`r#type` is `type`).
fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}

/// The `Deserialize` struct of the arguments, named `__WeftArgs`.
fn args_struct(sig: &Signature) -> TokenStream2 {
    let idents = sig.idents();
    let types = sig.types();
    let renames: Vec<String> = sig.args.iter().map(|arg| unraw(&arg.ident)).collect();
    quote! {
        #[derive(::weft_sdk::__private::serde::Deserialize)]
        #[serde(crate = "::weft_sdk::__private::serde")]
        #[allow(non_camel_case_types, non_snake_case)]
        struct __WeftArgs {
            #( #[serde(rename = #renames)] #idents: #types, )*
        }
    }
}

fn expand_flow(func: &ItemFn, sig: &Signature, options: &Options) -> TokenStream2 {
    let fn_ident = &func.sig.ident;
    let fn_name = unraw(fn_ident);
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| fn_name.replace('_', "-"));
    let parameters: Vec<String> = sig.args.iter().map(|arg| unraw(&arg.ident)).collect();
    let schema = parameter_schema(sig);
    let description = description(&func.attrs);
    let args = args_struct(sig);
    let idents = sig.idents();
    let encode = sig.encode(quote!(#fn_ident(#(__args.#idents),*)));
    let retries = options.retries_tokens();
    let timeout = optional(options.timeout_ms.map(|ms| quote!(#ms)));
    quote! {
        #func

        const _: () = {
            #args

            fn __weft_run(params: &str) -> ::core::result::Result<::std::string::String, ::std::string::String> {
                let __args: __WeftArgs = ::weft_sdk::__private::parse_input("flow", #name, params)?;
                #encode
            }

            ::weft_sdk::__private::inventory::submit! {
                ::weft_sdk::__private::FlowDef {
                    name: #name,
                    fn_name: #fn_name,
                    parameters: &[#(#parameters),*],
                    parameter_schema: #schema,
                    description: #description,
                    retries: #retries,
                    timeout_ms: #timeout,
                    run: __weft_run,
                }
            }
        };
    }
}

/// The visibility of the items in the generated module, seen from outside.
fn inner_visibility(vis: &Visibility) -> TokenStream2 {
    match vis {
        Visibility::Inherited => quote!(pub(super)),
        Visibility::Public(_) => quote!(pub),
        // `pub(crate)`, and `pub(super)`/`pub(in path)` widened to it.
        Visibility::Restricted(_) => quote!(pub(crate)),
    }
}

fn expand_task(func: &ItemFn, sig: &Signature, options: &Options) -> TokenStream2 {
    let fn_ident = &func.sig.ident;
    let fn_name = unraw(fn_ident);
    let name = options.name.clone().unwrap_or_else(|| fn_name.clone());
    let description = description(&func.attrs);
    let attrs = &func.attrs;
    let vis = &func.vis;
    let inner_vis = inner_visibility(vis);
    let body_ident = format_ident!("__weft_task_body_{}", fn_name);
    let inputs = &func.sig.inputs;
    let output = &func.sig.output;
    let block = &func.block;
    let idents = sig.idents();
    let types = sig.types();
    let renames: Vec<String> = sig.args.iter().map(|arg| unraw(&arg.ident)).collect();
    let success = sig.success_type();
    let options_tokens = options.tokens();
    let args = args_struct(sig);
    let encode = sig.encode(quote!(#body_ident(#(__args.#idents),*)));
    let call_doc = format!(
        "Runs the task `{name}` as a task run on the host and returns its result; \
         panics if the task run ends in error (use `{fn_name}::try_call` to handle it)."
    );
    let mod_doc = format!("Calling helpers of the task `{name}`.");
    quote! {
        #(#attrs)*
        #[doc = ""]
        #[doc = #call_doc]
        #[track_caller]
        #[allow(dead_code)]
        #vis fn #fn_ident(#(#idents: #types),*) -> #success {
            ::weft_sdk::__private::expect_task(#fn_ident::NAME, #fn_ident::try_call(#(#idents),*))
        }

        #[doc(hidden)]
        #(#attrs)*
        #[allow(non_snake_case, clippy::needless_pass_by_value)]
        fn #body_ident(#inputs) #output #block

        #[doc = #mod_doc]
        #[allow(non_snake_case, dead_code)]
        #vis mod #fn_ident {
            #[allow(unused_imports)]
            use super::*;

            /// The task's name.
            #inner_vis const NAME: &str = #name;

            /// The task's options, from its attribute.
            #inner_vis fn options() -> ::weft_sdk::TaskOptions {
                #options_tokens
            }

            /// The task's JSON input for these arguments.
            #[track_caller]
            #inner_vis fn input(#(#idents: &#types),*) -> ::std::string::String {
                ::weft_sdk::__private::TaskInput::new(NAME)
                    #( .arg(#renames, #idents) )*
                    .finish()
            }

            /// Runs the task and waits for its result, or the reason there is none.
            #[track_caller]
            #inner_vis fn try_call(#(#idents: #types),*) -> ::core::result::Result<#success, ::weft_sdk::TaskError> {
                ::weft_sdk::__private::call(NAME, input(#(&#idents),*), options())
            }

            /// Starts the task concurrently with the caller; wait with `.result()`.
            #[track_caller]
            #inner_vis fn submit(#(#idents: #types),*) -> ::weft_sdk::TaskFuture<#success> {
                ::weft_sdk::__private::submit(NAME, input(#(&#idents),*), options())
            }
        }

        const _: () = {
            #args

            fn __weft_run(input: &str) -> ::core::result::Result<::std::string::String, ::std::string::String> {
                let __args: __WeftArgs = ::weft_sdk::__private::parse_input("task", #name, input)?;
                #encode
            }

            ::weft_sdk::__private::inventory::submit! {
                ::weft_sdk::__private::TaskDef {
                    name: #name,
                    fn_name: #fn_name,
                    description: #description,
                    run: __weft_run,
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(ty: &str) -> String {
        schema_of(&syn::parse_str(ty).unwrap())
    }

    fn sig(func: &str) -> Signature {
        Signature::parse(&syn::parse_str(func).unwrap()).unwrap()
    }

    #[test]
    fn schemas_of_basic_types() {
        assert_eq!(schema("u32"), r#"{"type":"integer"}"#);
        assert_eq!(schema("f64"), r#"{"type":"number"}"#);
        assert_eq!(schema("bool"), r#"{"type":"boolean"}"#);
        assert_eq!(schema("String"), r#"{"type":"string"}"#);
        assert_eq!(
            schema("Vec<i64>"),
            r#"{"type":"array","items":{"type":"integer"}}"#
        );
        assert_eq!(
            schema("Option<String>"),
            r#"{"anyOf":[{"type":"string"},{"type":"null"}]}"#
        );
        assert_eq!(schema("serde_json::Value"), "{}");
        assert_eq!(schema("MyStruct"), "{}");
    }

    #[test]
    fn parameter_schema_lists_required_arguments() {
        let sig = sig("fn etl(n: u32, label: Option<String>) {}");
        assert_eq!(
            parameter_schema(&sig),
            r#"{"type":"object","properties":{"n":{"type":"integer"},"label":{"anyOf":[{"type":"string"},{"type":"null"}]}},"required":["n"]}"#
        );
        let empty = self::sig("fn f() {}");
        assert_eq!(
            parameter_schema(&empty),
            r#"{"type":"object","properties":{},"required":[]}"#
        );
    }

    #[test]
    fn return_types() {
        assert!(matches!(sig("fn f() {}").returns, Returns::Unit));
        assert!(matches!(sig("fn f() -> () {}").returns, Returns::Unit));
        assert!(matches!(
            sig("fn f() -> u32 { 1 }").returns,
            Returns::Value(_)
        ));
        let returns = sig("fn f() -> Result<Vec<u8>, String> { Ok(Vec::new()) }").returns;
        let Returns::Result(ok) = returns else {
            panic!("not a Result")
        };
        assert_eq!(quote!(#ok).to_string(), "Vec < u8 >");
    }

    #[test]
    fn task_options() {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated
            .parse_str(r#"retries = 2, retry_delay_ms = [100, 200], retry_backoff = 2.0, cache_expiration = 60, tags = ["a"]"#)
            .unwrap();
        let options = Options::parse(&metas, Kind::Task).unwrap();
        assert_eq!(options.retries, Some(2));
        assert_eq!(options.retry_delays, Some(vec![100, 200]));
        assert_eq!(options.retry_backoff, Some(2.0));
        assert_eq!(options.cache_expiration, Some(60));
        assert_eq!(options.tags, vec!["a".to_owned()]);

        let metas = Punctuated::<Meta, Token![,]>::parse_terminated
            .parse_str("retry_delay_ms = 5")
            .unwrap();
        assert!(Options::parse(&metas, Kind::Task).is_err());
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated
            .parse_str("retries = 1, retry_delay_ms = 50, timeout_ms = 1000")
            .unwrap();
        let flow = Options::parse(&metas, Kind::Flow).unwrap();
        assert_eq!(
            (flow.retries, flow.retry_delays, flow.timeout_ms),
            (Some(1), Some(vec![50]), Some(1000))
        );
        for refused in ["cache", "tags = [\"a\"]", "cache_key = \"k\""] {
            let metas = Punctuated::<Meta, Token![,]>::parse_terminated
                .parse_str(refused)
                .unwrap();
            assert!(Options::parse(&metas, Kind::Flow).is_err(), "{refused}");
        }
    }

    #[test]
    fn descriptions_join_doc_lines() {
        let func: ItemFn = syn::parse_str("/// Line one.\n///\n/// Line two.\nfn f() {}").unwrap();
        assert_eq!(description(&func.attrs), "Line one.\n\nLine two.");
    }
}
