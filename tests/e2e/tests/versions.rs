//! The manners every binary shares: `--version` prints the program's name and version (never
//! a flag of the program's own), `--help` exits 0.

use ship_e2e::act::bin_dir;
use ship_e2e::BINARIES;
use std::process::Command;

#[test]
fn every_binary_prints_its_version_and_help() {
    let version = env!("CARGO_PKG_VERSION");
    for name in BINARIES {
        let out = Command::new(bin_dir().join(name))
            .arg("--version")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.trim() == format!("{name} {version}"),
            "{name} --version: {:?}\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let help = Command::new(bin_dir().join(name))
            .arg("--help")
            .output()
            .unwrap();
        assert!(help.status.success(), "{name} --help: {:?}", help.status);
    }
}
