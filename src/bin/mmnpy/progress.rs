//! Progress bars on stderr, shown only when asked for or when stderr is a terminal and the
//! work is long; they never touch stdout, so `--json` output stays clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::Global;

/// When to draw a progress bar.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    Auto,
    Always,
    Never,
}

/// Work below this many bytes finishes too fast for a bar to help (in `auto` mode).
const LONG_WORK_BYTES: u64 = 256 << 20;

/// A byte-counting progress bar for `total` bytes of work, hidden unless `global` asks for it.
pub(crate) fn bytes_bar(global: &Global, total: u64, message: &str) -> ProgressBar {
    let show = !global.quiet
        && match global.progress {
            When::Always => true,
            When::Never => false,
            When::Auto => std::io::stderr().is_terminal() && total >= LONG_WORK_BYTES,
        };
    if !show {
        return ProgressBar::hidden();
    }
    let target = if global.progress == When::Always && !std::io::stderr().is_terminal() {
        // indicatif hides a bar whose terminal is not a tty (or is `TERM=dumb`); `always` is
        // asked for precisely when drawing anyway is wanted (a log file, a test), so draw
        // through the same stderr handle without that check.
        ProgressDrawTarget::term_like_with_hz(Box::new(console::Term::stderr()), 20)
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(message.to_string());
    bar
}
