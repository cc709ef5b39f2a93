//! Embeds every `migrations/<VERSION>_<DESCRIPTION>.sql` file into the crate, the way sqlx's
//! `migrate!` macro does, without needing sqlx's proc-macro feature: it writes
//! `$OUT_DIR/migrations.rs`, a list of `sqlx::migrate::Migration` values whose SQL comes from
//! `include_str!`. Checksums are computed by sqlx at run time with the same algorithm as
//! `migrate!`, so switching to the macro later keeps existing databases valid.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let dir = manifest_dir.join("migrations");
    println!("cargo:rerun-if-changed=migrations");

    let mut found: Vec<(i64, String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        println!("cargo:rerun-if-changed={}", path.display());
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".sql") else {
            continue;
        };
        let Some((version, description)) = stem.split_once('_') else {
            return Err(format!("migration {file}: expected <VERSION>_<DESCRIPTION>.sql").into());
        };
        let version: i64 = version
            .parse()
            .map_err(|_| format!("migration {file}: version {version:?} is not a number"))?;
        if found.iter().any(|(v, _, _)| *v == version) {
            return Err(format!("migration {file}: version {version} is used twice").into());
        }
        found.push((version, description.replace('_', " "), path));
    }
    found.sort_by_key(|(v, _, _)| *v);

    let mut out = String::from("vec![\n");
    for (version, description, path) in &found {
        writeln!(
            out,
            "    ::sqlx::migrate::Migration::new({version}, ::std::borrow::Cow::Borrowed({description:?}), \
             ::sqlx::migrate::MigrationType::Simple, \
             ::sqlx::SqlSafeStr::into_sql_str(include_str!({path:?})), false),",
            path = path.display().to_string(),
        )?;
    }
    out.push_str("]\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("migrations.rs"), out)?;
    Ok(())
}
