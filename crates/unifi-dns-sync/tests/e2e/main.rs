//! End-to-end scenarios of the sync engine: simulated consoles over HTTPS (unifi-sim), a real
//! SQLite file, the engine as the library exposes it. Each test seeds consoles, runs cycles and
//! asserts the final state of every site from the simulator and the events in the database.

mod clients;
mod conflicts;
mod dry_run;
mod failures;
mod filters;
mod pagination;
mod propagation;
mod secrets;
mod support;
mod threshold_modes;
