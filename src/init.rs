//! `payremind init`: a starter config (every key commented) and the built-in templates, written
//! where the seller will edit them. Nothing is overwritten without `--force`.

use std::path::PathBuf;

use crate::cli::InitArgs;
use crate::config::SAMPLE;
use crate::error::Error;
use crate::render::BUILT_IN;

/// Writes `payremind.toml` and `templates/<step>.txt` into the folder.
///
/// # Errors
/// A file exists (without `--force`) or cannot be written.
pub fn init(args: &InitArgs) -> Result<u8, Error> {
    let mut files: Vec<(PathBuf, &str)> = vec![(args.dir.join("payremind.toml"), SAMPLE)];
    let templates = args.dir.join("templates");
    files.extend(
        BUILT_IN
            .iter()
            .map(|(name, source)| (templates.join(format!("{name}.txt")), *source)),
    );
    if !args.force {
        if let Some((path, _)) = files.iter().find(|(path, _)| path.exists()) {
            return Err(Error::Exists { path: path.clone() });
        }
    }
    let write_error = |path: &PathBuf| {
        let path = path.clone();
        move |source| Error::Write { path, source }
    };
    std::fs::create_dir_all(&templates).map_err(write_error(&templates))?;
    for (path, text) in &files {
        std::fs::write(path, text).map_err(write_error(path))?;
    }
    eprintln!(
        "payremind: wrote {} and {} templates in {}\nnext: set [shop].name and [source].timezone, map [columns] to your export's headers, then run `payremind check --orders <export.csv>`",
        files[0].0.display(),
        BUILT_IN.len(),
        templates.display()
    );
    Ok(0)
}
