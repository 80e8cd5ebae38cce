//! Subcommands of the `cansend` binary that are more than a call into the
//! library: they live here, as library code with tests, so the binary
//! stays a thin parser of flags.
//!
//! - [`status`]: `cansend status URL…`, one line per replica, and an exit
//!   code for scripts and rollouts.

pub mod status;
