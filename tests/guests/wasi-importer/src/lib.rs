//! A test guest: a policy that reads the process environment through WASI.
//! The host must refuse to load it, naming the import.

#[cfg(target_arch = "wasm32")]
mod guest {
    wit_bindgen::generate!({ path: "wit", world: "wasi-importer", generate_all });

    use exports::shipgate::policy::api::*;

    struct Importer;

    impl Guest for Importer {
        fn info() -> PolicyInfo {
            PolicyInfo {
                name: "wasi-importer".into(),
                version: "0.0.0".into(),
                description: "reads the environment".into(),
                stages: vec![Stage::Gate],
                reads: vec![],
                rules: vec![],
            }
        }
        fn configure(_config: String) -> Result<(), ConfigError> {
            Ok(())
        }
        fn evaluate(_input: Evaluation) -> Result<Decision, String> {
            let env = wasi::cli::environment::get_environment();
            Err(format!("saw {} variables", env.len()))
        }
    }

    export!(Importer);
}
