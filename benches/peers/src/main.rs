//! cansend side by side with Cedar and Rego (regorus); see README.md.

fn main() {}
