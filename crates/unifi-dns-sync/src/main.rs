//! The `unifi-dns-sync` binary: everything lives in the library ([`unifi_dns_sync::cli`]).

fn main() -> std::process::ExitCode {
    unifi_dns_sync::cli::main()
}
