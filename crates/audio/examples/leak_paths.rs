//! The leak paths `callscope_audio::leak` finds in the stereo recordings of
//! evaluation sets, one line per call and direction, to tell which calls a
//! change of the leak rule can touch (`own_speech` depends on nothing else):
//!
//! ```sh
//! cargo run --release -p callscope-audio --example leak_paths -- SET [SET...] > paths.txt
//! ```
//!
//! `SET` holds `calls/<id>/stereo16k.flac`, or is a folder of such sets (a
//! `tools/eval/degrade.py` output).
use std::path::{Path, PathBuf};

fn sets(dir: &Path) -> Vec<PathBuf> {
    if dir.join("calls").is_dir() {
        return vec![dir.to_path_buf()];
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.join("calls").is_dir())
        .collect();
    out.sort();
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for arg in std::env::args().skip(1) {
        for set in sets(Path::new(&arg)) {
            let mut calls: Vec<PathBuf> =
                std::fs::read_dir(set.join("calls"))?.filter_map(|e| Some(e.ok()?.path())).collect();
            calls.sort();
            for call in calls {
                let audio = callscope_audio::decode_file(&call.join("stereo16k.flac"))?;
                let [a, b] = [0, 1].map(|i| {
                    callscope_audio::levels_db(
                        &audio.channels[i],
                        callscope_audio::TARGET_RATE,
                        callscope_audio::leak::FRAME_S,
                    )
                    .1
                });
                for (name, from, into) in [("0<-1", &b, &a), ("1<-0", &a, &b)] {
                    let path = callscope_audio::leak::estimate(from, into);
                    println!(
                        "{} {} {name} {}",
                        set.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
                        call.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
                        path.map_or("none".to_owned(), |p| format!(
                            "delay {:.2} s gain {:.1} dB r {:.2}",
                            p.delay_s, p.gain_db, p.correlation
                        ))
                    );
                }
            }
        }
    }
    Ok(())
}
