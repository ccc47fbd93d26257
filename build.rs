//! Compiles the built-in templates in: every `templates/<language>/<name>.txt` becomes a row of
//! `BUILT_IN_TEMPLATES` (language, name, text), and every folder a `SHIPPED_LANGUAGES` entry, so
//! adding a language is adding a folder.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn sorted(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} is not readable: {e}", dir.display()))
        .map(|entry| entry.expect("a folder entry is readable").path())
        .filter(|path| keep(path))
        .collect();
    paths.sort();
    paths
}

fn name(path: &Path) -> String {
    path.file_stem()
        .and_then(|n| n.to_str())
        .expect("a template's file name is UTF-8")
        .to_owned()
}

fn main() {
    println!("cargo:rerun-if-changed=templates");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut templates = String::from(
        "/// Every built-in template: language (its folder under `templates/`), name, text.\n\
         pub const BUILT_IN_TEMPLATES: &[(&str, &str, &str)] = &[\n",
    );
    let mut languages = Vec::new();
    for dir in sorted(&root, Path::is_dir) {
        let language = name(&dir);
        for file in sorted(&dir, |p| p.extension().is_some_and(|e| e == "txt")) {
            writeln!(
                templates,
                "    ({language:?}, {:?}, include_str!({:?})),",
                name(&file),
                file.display().to_string()
            )
            .expect("writing to a String");
        }
        languages.push(language);
    }
    templates.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("built_in.rs"), templates).expect("OUT_DIR is writable");
    std::fs::write(
        out.join("languages.rs"),
        format!(
            "/// The languages of the built-in templates: the folders of `templates/`, sorted.\n\
             pub const SHIPPED_LANGUAGES: &[&str] = &{languages:?};\n"
        ),
    )
    .expect("OUT_DIR is writable");
}
