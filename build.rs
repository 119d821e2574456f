// The message catalogue is compiled in by rust-i18n's macro; rebuild when it changes.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
