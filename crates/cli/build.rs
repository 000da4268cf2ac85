//! Link settings for the `callscope` binary.
//!
//! In a portable build (`GGML_BACKEND_DL=ON`, as `tools/install.sh` and the
//! Docker image build it) whisper.cpp and ggml are shared libraries installed
//! beside the binary's prefix, in `PREFIX/lib/callscope`: the binary finds them
//! there by a relative run path, so the prefix holds everything it needs. A
//! default (static) build links nothing dynamically and gets no run path.

fn main() {
    println!("cargo:rerun-if-env-changed=GGML_BACKEND_DL");
    let dl = std::env::var("GGML_BACKEND_DL")
        .map(|v| matches!(v.to_ascii_uppercase().as_str(), "ON" | "1" | "TRUE" | "YES"))
        .unwrap_or(false);
    if dl {
        // DT_RPATH, not DT_RUNPATH: it also serves the libraries that
        // libwhisper itself needs (libggml), which a run path would not.
        println!("cargo:rustc-link-arg-bins=-Wl,--disable-new-dtags,-rpath,$ORIGIN/../lib/callscope");
    }
}
