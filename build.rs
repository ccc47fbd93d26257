//! Compiles the built-in templates in: every `templates/<language>/<name>.txt` becomes a row of
//! `BUILT_IN_TEMPLATES` (language, name, text), so adding a language is adding a folder.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=templates");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut rows = Vec::new();
    let mut languages: Vec<_> = std::fs::read_dir(&root)
        .expect("templates/ is readable")
        .map(|entry| entry.expect("templates/ is readable").path())
        .filter(|path| path.is_dir())
        .collect();
    languages.sort();
    for dir in languages {
        let language = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a language folder's name is UTF-8")
            .to_owned();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("a language folder is readable")
            .map(|entry| entry.expect("a language folder is readable").path())
            .filter(|path| path.extension().is_some_and(|e| e == "txt"))
            .collect();
        files.sort();
        for file in files {
            let name = file
                .file_stem()
                .and_then(|n| n.to_str())
                .expect("a template's name is UTF-8")
                .to_owned();
            rows.push((language.clone(), name, file));
        }
    }
    let mut out = String::from(
        "/// Every built-in template: language (its folder under `templates/`), name, text.\n\
         pub const BUILT_IN_TEMPLATES: &[(&str, &str, &str)] = &[\n",
    );
    for (language, name, path) in rows {
        writeln!(
            out,
            "    ({language:?}, {name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("built_in.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
