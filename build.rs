// The message catalogue is compiled in by rust-i18n's macro, and the migrations by sqlx's
// `migrate!`: rebuild when either changes (a new migration file included).
fn main() {
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=migrations");
}
