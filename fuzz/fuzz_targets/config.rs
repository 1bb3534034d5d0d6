//! Any text as `miglint.toml` and as `pyproject.toml`; rules built from it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miglint::project::config::Settings;
use miglint::rules::RuleSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (name, pyproject) in [("miglint.toml", false), ("pyproject.toml", true)] {
        if let Ok(Some(settings)) = Settings::from_text(name.as_ref(), text, pyproject) {
            let _ = RuleSet::build(&settings, &[], &[]);
        }
    }
});
